"""Documents: add (a fiche, one of its notes, a meeting), download, delete after a confirmation
page. Every rule is in reporting.documents; a read refused answers 404, a write 403."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from actions.permissions import get_fiche_for_user
from reporting import documents
from reporting.forms import DocumentForm
from reporting.models import Document
from reporting.views import _meeting

TEMPLATE = "reporting/document_form.html"


def _added(request: HttpRequest, document: Document) -> None:
    messages.success(request, f"Document « {document.name} » ajouté.")


@require_http_methods(["GET", "POST"])
def fiche_document_add(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """Joins a file to the fiche (its editors) or to a note (its editors, and the note's author)."""
    action, access = get_fiche_for_user(request.user, slug, number)
    if not access.can_note:
        raise PermissionDenied("Vous ne pouvez pas joindre de document à cette fiche-action.")
    notes = documents.notes_open_to(request.user, action, can_edit=access.can_edit)
    back = action.get_absolute_url()
    form = DocumentForm(
        request.POST or None,
        request.FILES or None,
        notes=notes,
        note_required=not access.can_edit,
        initial={"note": request.GET.get("note")},
    )
    if request.method == "POST" and form.is_valid():
        note = form.cleaned_data.get("note")
        document = documents.store(
            form.cleaned_data["file"], plan=action.plan, by=request.user, action=action, note=note
        )
        _added(request, document)
        return redirect(f"{back}#{f'note-{note.pk}' if note else 'documents'}")
    context = {
        "plan": action.plan,
        "form": form,
        "target": f"l'action {action.number} : {action.title}",
        "back": back,
        "no_notes": not access.can_edit and not notes.exists(),
    }
    return render(request, TEMPLATE, context, status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def meeting_document_add(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Joins a file (minutes, attendance sheet…) to a meeting: its administrateurs and coordinateurs."""
    plan, meeting, _ = _meeting(request, slug, pk, write=True)
    back = reverse("meeting_detail", kwargs={"slug": plan.slug, "pk": meeting.pk})
    form = DocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        document = documents.store(form.cleaned_data["file"], plan=plan, by=request.user, meeting=meeting)
        _added(request, document)
        return redirect(f"{back}#documents")
    context = {"plan": plan, "form": form, "target": f"la réunion « {meeting} »", "back": back}
    return render(request, TEMPLATE, context, status=422 if form.errors else 200)


def _document(request: HttpRequest, slug: str, pk: int) -> Document:
    """A document of a plan the user may read: 404 otherwise."""
    return get_object_or_404(
        documents.readable_by(request.user).select_related("plan", "action", "note", "meeting"),
        pk=pk,
        plan__slug=slug,
    )


@require_GET
def document_download(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    return documents.download(_document(request, slug, pk))


def _owner_url(document: Document) -> str:
    if document.meeting_id:
        url = reverse("meeting_detail", kwargs={"slug": document.plan.slug, "pk": document.meeting_id})
        return f"{url}#documents"
    anchor = f"note-{document.note_id}" if document.note_id else "documents"
    return f"{document.action.get_absolute_url()}#{anchor}"


@require_http_methods(["GET", "POST"])
def document_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Asks first (a page that works without JavaScript), deletes on POST."""
    document = _document(request, slug, pk)
    if not documents.may_change(request.user, document):
        raise PermissionDenied("Vous ne pouvez pas supprimer ce document.")
    back = _owner_url(document)
    if request.method == "POST":
        documents.delete(document, by=request.user)
        messages.success(request, f"Document « {document.name} » supprimé.")
        return redirect(back)
    context = {
        "plan": document.plan,
        "object": f"le document « {document.name} »",
        "consequence": f"Il est joint à {document.owner_label}. Le fichier sera effacé.",
        "cancel_url": back,
    }
    return render(request, "reporting/confirm_delete.html", context)
