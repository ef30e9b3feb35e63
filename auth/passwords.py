"""Passwords: argon2id hashes with the OWASP parameters of `config.py`, computed off the event loop.

One hash or verification costs ~20 ms of CPU (m=19 MiB, t=2); on the event loop that stalls
every other request for as long, so each runs in a worker thread (argon2-cffi releases the GIL).
At most one runs per CPU at a time: with p=1 each is single-threaded, so more threads would add
memory (19 MiB each) under a login flood but no throughput.
"""

import os
import secrets

import anyio
from anyio import to_thread
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from config import AppConfig

# The bounds of every password set (createUser, setPassword, changePassword, estart create-admin).
PASSWORD_LENGTH = (12, 256)
# zxcvbn's score (0-4) a new password needs: 3 is "safely unguessable" (about 10^8 guesses and
# more), which refuses common passwords with digits added, keyboard walks, dates and repeats.
MIN_STRENGTH = 3
STRENGTH_CHARACTERS = 72  # zxcvbn's limit: the strength of a longer password is its first 72's


def password_problem(password: str, username: str, display_name: str = "") -> str | None:
    """Why `password` may not be set for this user, or None. The reason never quotes the
    password. Run it off the event loop (`check_new_password`): zxcvbn takes up to ~50 ms.

    Refused: a length outside PASSWORD_LENGTH; the username inside it (any case); fewer than
    five different characters (`aaaaaaaaaaaa`); and whatever zxcvbn, with its bundled lists of
    common passwords, words and names and the user's own name and username, scores below
    MIN_STRENGTH."""
    low, high = PASSWORD_LENGTH
    if not low <= len(password) <= high:
        return f"password must be {low} to {high} characters"
    folded, name = password.casefold(), username.strip().casefold()
    if len(name) >= 3 and name in folded:
        return "password must not contain the username"
    if len(set(folded)) < 5:
        return "password must use at least five different characters"
    inputs = [name, *name.replace("-", " ").replace(".", " ").replace("_", " ").split(), *display_name.split()]
    if zxcvbn(password[:STRENGTH_CHARACTERS], user_inputs=inputs)["score"] < MIN_STRENGTH:
        return (
            "password is too easy to guess (a common password, a name, a date, a keyboard pattern or a "
            "repetition): use a longer passphrase of unrelated words"
        )
    return None


async def check_new_password(password: str, username: str, display_name: str = "") -> str | None:
    """`password_problem`, in a worker thread."""
    return await to_thread.run_sync(password_problem, password, username, display_name)


def password_hasher(config: AppConfig) -> PasswordHasher:
    return PasswordHasher(
        time_cost=config.argon2_time_cost,
        memory_cost=config.argon2_memory_kib,
        parallelism=config.argon2_parallelism,
        type=Type.ID,
    )


def usable_cpus() -> int:
    """CPUs this process may run on (a container's or taskset's limit, not the machine's)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


class Passwords:
    def __init__(self, config: AppConfig) -> None:
        self.hasher = password_hasher(config)
        self._threads = anyio.CapacityLimiter(usable_cpus())
        # Verifying against a real hash for unknown users keeps both failures equally slow.
        self._dummy_hash = self.hasher.hash(secrets.token_hex(16))

    async def hash(self, password: str) -> str:
        return await to_thread.run_sync(self.hasher.hash, password, limiter=self._threads)

    async def verify(self, stored: str | None, password: str) -> bool:
        """Whether `password` matches the `stored` hash. With none stored (an unknown user) a
        dummy hash is verified, so the answer takes as long as for a user who exists."""
        if len(password) > PASSWORD_LENGTH[1]:
            return False  # too long to be anyone's password: refused before hashing (no long-password DoS)
        stored = self._dummy_hash if stored is None else stored
        return await to_thread.run_sync(self._verify, stored, password, limiter=self._threads)

    def needs_rehash(self, stored: str) -> bool:
        return self.hasher.check_needs_rehash(stored)

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
