"""Subscriptions: an Atom feed of newly published agreements and an
iCalendar file of signing events and programme items."""

import datetime

import icalendar
from django.contrib.syndication.views import Feed
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext_lazy as _

from .access import PUBLIC
from .choices import DatePrecision
from .models import Agreement, ProgrammeItem, SigningEvent

FEED_SIZE = 50


class AgreementFeed(Feed):
    feed_type = Atom1Feed
    title = _("Cooperation agreements: newly published")
    subtitle = _("Signed cooperation agreements as they are published in the registry.")

    def link(self):
        return reverse("agreements:agreement_list")

    def items(self):
        return (
            Agreement.objects.visible_to(PUBLIC)
            .filter(published_at__isnull=False)
            .select_related("signing_event")
            .prefetch_related("parties__organisation")
            .order_by("-published_at", "-id")[:FEED_SIZE]
        )

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        parties = ", ".join(party.organisation.display_name for party in item.parties.all())
        return f"{item.summary} ({parties}; {item.signed_on_display})"

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.updated_at

    def item_guid(self, item):
        return f"urn:agreement-registry:agreement:{item.pk}"

    item_guid_is_permalink = False


def _event(uid: str, summary: str, day: datetime.date, description: str, location: str, url: str):
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("summary", summary)
    event.add("dtstart", day)
    event.add("dtend", day + datetime.timedelta(days=1))
    event.add("dtstamp", timezone.now())
    if description:
        event.add("description", description)
    if location:
        event.add("location", location)
    event.add("url", url)
    return event


def calendar(request):
    """Signing events known to the day, and the trips' programme items, as all-day events."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Cooperation Agreement Registry//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", str(_("Signing events and delegation programmes")))
    for event in SigningEvent.objects.filter(date_precision=DatePrecision.DAY).order_by("date", "id"):
        cal.add_component(
            _event(
                f"signing-event-{event.pk}@agreement-registry",
                event.title,
                event.date,
                event.description,
                ", ".join(filter(None, [event.venue, event.city, event.country.name])),
                request.build_absolute_uri(event.get_absolute_url()),
            )
        )
    for item in ProgrammeItem.objects.select_related("trip").order_by("date", "id"):
        cal.add_component(
            _event(
                f"programme-item-{item.pk}@agreement-registry",
                item.title,
                item.date,
                item.description,
                ", ".join(filter(None, [item.venue, item.city])),
                request.build_absolute_uri(item.trip.get_absolute_url()),
            )
        )
    response = HttpResponse(cal.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="agreement-registry.ics"'
    return response
