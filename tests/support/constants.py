"""Values every test file may name: the platform's host and the password of test accounts."""

from __future__ import annotations

#: The platform site's host in the tests; tenant sites are ``<slug>.pnyx.test``.
PLATFORM = "pnyx.test"

#: The password of every test account: long and unusual enough for the password rules
#: (zxcvbn, breached-password list) to accept it.
PASSWORD = "Ornithorynque-Cardamome-1847"
