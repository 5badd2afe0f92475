from django.urls import path

from . import exports, feeds, views

app_name = "agreements"

urlpatterns = [
    path("", views.agreement_list, name="home"),
    path("agreements/", views.agreement_list, name="agreement_list"),
    path("feeds/agreements/", views.cached_page(feeds.AgreementFeed()), name="agreement_feed"),
    path("agreements.csv", exports.agreements_csv, name="agreements_csv"),
    path("agreements.json", exports.agreements_json, name="agreements_json"),
    path("agreements/<slug:slug>/", views.agreement_detail, name="agreement_detail"),
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("organisations/<slug:slug>/", views.organisation_detail, name="organisation_detail"),
    path("trips/", views.trip_list, name="trip_list"),
    path("trips/<slug:slug>/", views.trip_detail, name="trip_detail"),
    path("signing-events/<slug:slug>/", views.signing_event_detail, name="signingevent_detail"),
    path("statistics/", views.statistics_page, name="statistics"),
    path("statistics/<slug:table>.csv", views.statistics_csv, name="statistics_csv"),
    path("map/", views.agreement_map, name="map"),
    path("map/links.csv", views.map_links_csv, name="map_links_csv"),
    path("topics/", views.topic_list, name="topic_list"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic_detail"),
    path("documents/<int:pk>/", views.document_download, name="document_download"),
    path("calendar.ics", views.cached_page(feeds.calendar), name="calendar"),
    # The legal pages, one address each (LegalPageKind's values are the names).
    path("imprint/", views.legal_page, {"kind": "imprint"}, name="imprint"),
    path("privacy/", views.legal_page, {"kind": "privacy"}, name="privacy"),
    path("accessibility/", views.legal_page, {"kind": "accessibility"}, name="accessibility"),
]
