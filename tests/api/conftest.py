"""A small registry with something hidden from each kind of caller, and one
API client per caller of the permission matrix."""

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from agreements.services import token_create

from ..factories import (
    AgreementDocumentFactory,
    AgreementFactory,
    OrganisationFactory,
    PersonFactory,
    SignatoryFactory,
    SigningEventFactory,
    TopicFactory,
)
from ..helpers import WRITE_PERMS, staff_user, token_client


@dataclass
class World:
    org_a: object
    org_b: object
    public: object  # signed, public, party A and C
    draft_a: object  # draft, not public, party A
    hidden_b: object  # signed but not public, party B
    public_person: object
    hidden_person: object


@pytest.fixture
def world(db):
    org_a = OrganisationFactory(slug="org-a", name="Alpha Cluster", country="DE")
    org_b = OrganisationFactory(slug="org-b", name="Beta Association", country="PL")
    org_c = OrganisationFactory(slug="org-c", name="Gamma Institute", country="CZ")
    event = SigningEventFactory(slug="event")
    public = AgreementFactory(
        slug="public",
        signed=True,
        parties=[org_a, org_c],
        signing_event=event,
        topics=[TopicFactory(slug="software")],
        title_en="Open cooperation",
        summary_en="Supply chains and software",
    )
    draft_a = AgreementFactory(
        slug="draft-a",
        parties=[org_a, org_c],
        title_en="Secret draft alpha",
        summary_en="confidential hydrogen plans",
        signing_event=event,
    )
    hidden_b = AgreementFactory(
        slug="hidden-b",
        signed=True,
        is_public=False,
        parties=[org_b, org_c],
        title_en="Private beta pact",
        summary_en="confidential hydrogen plans",
    )
    public_person = PersonFactory(slug="minister", name="Public Minister", is_public=True)
    hidden_person = PersonFactory(slug="private-person", name="Private Person", is_public=False)
    SignatoryFactory(agreement=public, person=public_person, organisation=org_a)
    SignatoryFactory(agreement=public, person=hidden_person, organisation=org_c)
    AgreementDocumentFactory(agreement=public, title="Public scan", is_public=True)
    AgreementDocumentFactory(agreement=public, title="Internal annex", is_public=False)
    event.people_present.set([public_person, hidden_person])
    return World(org_a, org_b, public, draft_a, hidden_b, public_person, hidden_person)


@pytest.fixture
def clients(world):
    """anonymous, partner_a, partner_b, staff (no permissions, no role: sees what is public),
    staff_perm (the permissions and the registry admin role), superuser."""
    _, key_a = token_create(name="A", organisation=world.org_a)
    _, key_b = token_create(name="B", organisation=world.org_b)
    result = {"anonymous": APIClient(), "partner_a": token_client(key_a), "partner_b": token_client(key_b)}
    for name, user in {
        "staff": staff_user("staff"),
        "staff_perm": staff_user("staff-perm", perms=WRITE_PERMS, group="registry admin"),
        "superuser": staff_user("root", superuser=True),
    }.items():
        client = APIClient()
        client.force_authenticate(user)
        result[name] = client
    return result
