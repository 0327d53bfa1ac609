"""Import and export of whole plans.

- `open_format`: the open format "ctg-plan/1" (JSON): export, validation, preview and import;
  every other spelling of a plan goes through it.
- `spreadsheet`: the plan as a workbook (the template territories fill in), read and written.
- `errors`: the errors both raise, each listing every problem of a file in French.
"""
