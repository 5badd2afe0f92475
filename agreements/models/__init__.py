"""The registry's domain: organisations, people, topics, agreements, signing
events and delegation trips, one module each; everything is re-exported here,
so ``from agreements.models import Agreement`` and the migrations keep working.

Reader-facing text is held in every language of ``settings.LANGUAGES``
(``title_de``, ``title_en``, ``title_pl`` …, created by django-translated-fields);
reading ``obj.title`` gives the active language and falls back to the record's
original language, then to any language that has text.
"""

from .agreements import NEWEST_FIRST as NEWEST_FIRST
from .agreements import OLDEST_FIRST as OLDEST_FIRST
from .agreements import PUBLISHED as PUBLISHED
from .agreements import Agreement as Agreement
from .agreements import AgreementParty as AgreementParty
from .agreements import AgreementQuerySet as AgreementQuerySet
from .agreements import ExpiryReminder as ExpiryReminder
from .agreements import Signatory as Signatory
from .agreements import expired_on as expired_on
from .agreements import search_document as search_document
from .base import RestrictedQuerySet as RestrictedQuerySet
from .base import TimeStampedModel as TimeStampedModel
from .changes import Change as Change
from .changes import ChangeFeedState as ChangeFeedState
from .changes import ChangeKind as ChangeKind
from .confirmations import AgreementConfirmation as AgreementConfirmation
from .data_version import DataVersion as DataVersion
from .data_version import locked_for_update as locked_for_update
from .documents import AgreementDocument as AgreementDocument
from .documents import AgreementSource as AgreementSource
from .documents import document_upload_to as document_upload_to
from .idempotency import IDEMPOTENCY_KEY_TTL as IDEMPOTENCY_KEY_TTL
from .idempotency import IdempotencyKey as IdempotencyKey
from .legal import LegalPage as LegalPage
from .organisations import ORGANISATION_PROFILE_FIELDS as ORGANISATION_PROFILE_FIELDS
from .organisations import Organisation as Organisation
from .organisations import Person as Person
from .organisations import Topic as Topic
from .tokens import ApiToken as ApiToken
from .tokens import hash_token_key as hash_token_key
from .trips import DelegationTrip as DelegationTrip
from .trips import ProgrammeItem as ProgrammeItem
from .trips import SigningEvent as SigningEvent
from .trips import TripStop as TripStop
from .webhooks import WebhookDelivery as WebhookDelivery
from .webhooks import WebhookEndpoint as WebhookEndpoint
