from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from agreements.models import Organisation
from agreements.services import token_create


class Command(BaseCommand):
    help = (
        "Create a REST API token for a partner organisation (--organisation SLUG) or a staff user "
        "(--user USERNAME). The key is printed once; only its hash is stored."
    )

    def add_arguments(self, parser):
        owner = parser.add_mutually_exclusive_group(required=True)
        owner.add_argument("--organisation", metavar="SLUG", help="Slug of the partner organisation.")
        owner.add_argument("--user", metavar="USERNAME", help="Username of an active staff user.")
        parser.add_argument("--name", required=True, help="What the token is for, e.g. the partner's system.")
        parser.add_argument("--expires-in-days", type=int, metavar="N", help="Valid for N days (default: no expiry).")

    @translation.override("en")  # operators read English, whatever request ran before
    def handle(self, *args, organisation, user, name, expires_in_days, **options):
        owner = {}
        if organisation is not None:
            owner["organisation"] = Organisation.objects.filter(slug=organisation).first()
            if owner["organisation"] is None:
                raise CommandError(f"No organisation with the slug {organisation!r}.")
        else:
            owner["user"] = get_user_model().objects.filter(username=user).first()
            if owner["user"] is None:
                raise CommandError(f"No user {user!r}.")
        try:
            token, key = token_create(name=name, expires_in_days=expires_in_days, **owner)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        expiry = f"expires {token.expires_at:%Y-%m-%d %H:%M %Z}" if token.expires_at else "does not expire"
        self.stdout.write(f"Token {token.name!r} for {token.organisation or token.user} ({expiry}).")
        self.stdout.write("Key (shown only this once; send it as 'Authorization: Token <key>'):")
        self.stdout.write(key)
