"""The project's URLs plus one door nobody classified (test_doors shows the inventory fails for it)."""

from django.http import HttpResponse
from django.urls import path

from registry.urls import *  # noqa: F403
from registry.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path(
        "admin/agreements/agreement/<int:pk>/confirm/",
        lambda request, pk: HttpResponse("confirmed"),
        name="agreements_agreement_confirm",
    ),
    *project_urlpatterns,
]
