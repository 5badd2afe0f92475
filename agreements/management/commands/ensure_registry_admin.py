import os
import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

PASSWORD_VARIABLE = "REGISTRY_ADMIN_PASSWORD"  # noqa: S105 - the variable's name, not a password


class Command(BaseCommand):
    help = (
        "Make sure a registry administrator (superuser) exists. The password comes from "
        f"${PASSWORD_VARIABLE}; without it a new user gets a generated password, printed once, and an "
        "existing user keeps theirs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="")

    @transaction.atomic
    def handle(self, *args, username, email, **options):
        User = get_user_model()
        if not username.strip():
            raise CommandError("--username must not be empty.")
        password = os.environ.get(PASSWORD_VARIABLE) or None
        user = User.objects.filter(username=username).first()
        if user is not None and password is None:
            self.stdout.write(
                f"Staff login: user {username!r} exists; password unchanged (set {PASSWORD_VARIABLE} to set a new one)."
            )
            return
        generated = password is None
        if generated:
            password = secrets.token_urlsafe(12)
        if user is None:
            user = User(username=username, email=email)
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        try:
            user.full_clean(exclude=["password"])
        except ValidationError as exc:
            raise CommandError(f"Cannot create user {username!r}: {exc.messages}") from exc
        user.save()
        if generated:
            self.stdout.write(
                self.style.SUCCESS(f"Staff login: user {username!r}, password {password}  (shown only this once)")
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Staff login: user {username!r}, password from ${PASSWORD_VARIABLE}.")
            )
