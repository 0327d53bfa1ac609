from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from actions.models import Action


@require_GET
def action_detail(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    action = get_object_or_404(
        Action.objects.visible_to(request.user).with_details(), plan__slug=slug, number=number
    )
    return render(request, "actions/action_detail.html", {"action": action, "plan": action.plan})
