"""What the tenancy tells the features above it (blinker signals; they connect in their
``init_app``).

The tenancy creates the spaces but owns no account in them: participation's staff feature
does. Rather than import a layer above, the tenancy says what happened and the feature acts.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: An operator created a space and named its first administrator (``flask tenants create
#: --admin-email``). Sent by the app inside the creating transaction with ``tenant_id`` and
#: ``email``: receivers queue their work for after the commit (participation.staff invites
#: the administrator once the space is provisioned).
first_admin_named = _signals.signal("first-admin-named")
