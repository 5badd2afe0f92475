from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from . import views, webhooks
from .statistics import StatisticsView

app_name = "api"

router = DefaultRouter()
router.register("agreements", views.AgreementViewSet, basename="agreement")
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register("signing-events", views.SigningEventViewSet, basename="signingevent")
router.register("trips", views.DelegationTripViewSet, basename="trip")
router.register("topics", views.TopicViewSet, basename="topic")
router.register("people", views.PersonViewSet, basename="person")
router.register("webhooks", webhooks.WebhookEndpointViewSet, basename="webhook")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("documents/<int:pk>/file/", views.DocumentFileView.as_view(), name="document-file"),
    path("statistics/", StatisticsView.as_view(), name="statistics"),
    path("changes/", views.ChangeFeedView.as_view(), name="changes"),
    path("", include(router.urls)),
]
