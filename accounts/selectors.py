from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import ApiToken, User
from accounts.roles import ADMIN, user_has_role


def tokens_visible_to(user: User) -> QuerySet[ApiToken]:
    qs = ApiToken.objects.select_related("user", "created_by")
    if user_has_role(user, ADMIN):
        return qs
    return qs.filter(user=user)
