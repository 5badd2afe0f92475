import datetime

from django import template
from django.db.models import Count
from django.utils import timezone
from simple_history.utils import get_history_model_for_model

from agreements.choices import AgreementStatus
from agreements.models import Agreement

register = template.Library()

EXPIRY_WINDOW = datetime.timedelta(days=90)


@register.simple_tag
def registry_overview():
    """The admin index's overview: agreements by status, those expiring soon, the latest changes."""
    counts = dict(Agreement.objects.order_by().values_list("status").annotate(n=Count("pk")))
    today = timezone.localdate()
    expiring = Agreement.objects.filter(
        status=AgreementStatus.SIGNED, valid_until__gte=today, valid_until__lte=today + EXPIRY_WINDOW
    ).order_by("valid_until")[:20]
    history = get_history_model_for_model(Agreement)
    return {
        "by_status": [(label, counts.get(value, 0)) for value, label in AgreementStatus.choices],
        "expired": Agreement.objects.filter(status=AgreementStatus.SIGNED, valid_until__lt=today).count(),
        "expiring": list(expiring),
        "latest": list(history.objects.select_related("history_user").order_by("-history_date")[:10]),
    }
