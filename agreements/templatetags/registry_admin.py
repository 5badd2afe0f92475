import datetime

from django import template
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import get_history_model_for_model

from agreements.access import Viewer
from agreements.choices import AgreementStatus
from agreements.models import Agreement, expired_on
from agreements.models.base import localized

register = template.Library()

EXPIRY_WINDOW = datetime.timedelta(days=90)


@register.simple_tag(takes_context=True)
def registry_overview(context):
    """The admin index's overview of the agreements the viewer may see: by
    status, those expiring soon, the latest changes."""
    viewer = Viewer.for_request(context["request"])
    agreements = Agreement.objects.visible_to(viewer)
    counts = dict(agreements.order_by().values_list("status").annotate(n=Count("pk")))
    today = timezone.localdate()
    expiring = agreements.filter(
        status=AgreementStatus.SIGNED, valid_until__gte=today, valid_until__lte=today + EXPIRY_WINDOW
    ).order_by("valid_until")[:20]
    history = get_history_model_for_model(Agreement).objects.all()
    if not viewer.sees_everything:  # administrators also see the history of deleted agreements
        history = history.filter(id__in=agreements.values("pk"))
    # Rows that add up to the total; "expired" is a part of "signed", shown as such.
    by_status = []
    for value, label in AgreementStatus.choices:
        by_status.append((label, counts.get(value, 0), False))
        if value == AgreementStatus.SIGNED:
            by_status.append((_("of which expired"), agreements.filter(expired_on(today)).count(), True))
    latest = list(history.select_related("history_user").order_by("-history_date")[:10])
    for change in latest:  # in the viewer's language where the record has it, as on the public pages
        change.display_title = localized(change, "title")
    return {
        "by_status": by_status,
        "total": sum(counts.values()),
        "expiring": list(expiring),
        "latest": latest,
    }
