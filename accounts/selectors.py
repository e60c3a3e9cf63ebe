from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from accounts.models import ApiToken, User
from accounts.roles import ADMIN, user_has_role
from config.db import RowReader, prepared_cursor


def tokens_visible_to(user: User) -> QuerySet[ApiToken]:
    qs = ApiToken.objects.select_related("user", "created_by")
    if user_has_role(user, ADMIN):
        return qs
    return qs.filter(user=user)


_TOKEN_AND_USER = RowReader(ApiToken, User)


def usable_token(
    key_id: str, *, now: datetime, extra_columns: Mapping[str, str] | None = None
) -> ApiToken | None:
    """The token with ``key_id`` if it is neither revoked nor expired at ``now`` and its user
    is active, with that user: ``ApiToken.objects.usable().select_related("user")`` written
    out, because every API request runs it and compiling it took longer than running it.

    ``extra_columns``: name → a fixed SQL expression the caller wants read in the same round
    trip (set as an attribute of the token)."""
    connection = transaction.get_connection()
    token_table = connection.ops.quote_name(ApiToken._meta.db_table)
    user_table = connection.ops.quote_name(User._meta.db_table)
    extra = dict(extra_columns or {})
    select = ", ".join([_TOKEN_AND_USER.columns(connection), *extra.values()])
    sql = (
        f"SELECT {select} FROM {token_table} "  # noqa: S608 - fixed names and expressions
        f"INNER JOIN {user_table} ON {user_table}.id = {token_table}.user_id "
        f"WHERE {token_table}.key_id = %s AND {token_table}.revoked_at IS NULL "
        f"AND ({token_table}.expires_at IS NULL OR {token_table}.expires_at > %s) "
        f"AND {user_table}.is_active"
    )
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, [key_id, connection.ops.adapt_datetimefield_value(now)])
        row = cursor.fetchone()
    if row is None:
        return None
    token, user = _TOKEN_AND_USER.read(connection, row)
    token.user = user
    values: list[Any] = list(row[_TOKEN_AND_USER.width :])
    for name, value in zip(extra, values, strict=True):
        setattr(token, name, value)
    return token  # type: ignore[no-any-return]
