#!/usr/bin/env python3
"""A reference ContactPoint consumer (API.md "The ContactPoint feed"), standard library only.

Mirrors the children the feed names into a local SQLite file and keeps its position there, so a
restart resumes where it stopped; the mirror converges on the service's current children.

    python3 examples/contactpoint_consumer.py --url http://127.0.0.1:8000/graphql \\
        --username contactpoint --password-env ESTART_FEED_PASSWORD --mirror mirror.db
"""

import argparse
import json
import os
import sqlite3
import urllib.request
from typing import Any

FEED = """query($after: String, $first: Int) { contactPointChanges(after: $after, first: $first) {
  changes { cursor kind childId child { firstName lastName dateOfBirth gender
            address { line1 line2 town postcode } settings { code } } }
  endCursor hasMore } }"""
LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }"


def graphql(url: str, query: str, variables: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables}).encode()
    with urllib.request.urlopen(urllib.request.Request(url, body, headers), timeout=60) as response:
        answer = json.load(response)
    if answer.get("errors"):
        raise SystemExit(f"the service refused: {answer['errors'][0].get('message')}")
    return answer["data"]  # type: ignore[no-any-return]


def open_mirror(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE IF NOT EXISTS position (id INTEGER PRIMARY KEY CHECK (id = 1), cursor TEXT)")
    db.execute("CREATE TABLE IF NOT EXISTS children (id TEXT PRIMARY KEY, state TEXT NOT NULL)")
    return db


def sync(url: str, token: str, db: sqlite3.Connection, batch: int) -> int:
    """Read pages until the feed has no more; each page and its cursor commit together."""
    row = db.execute("SELECT cursor FROM position WHERE id = 1").fetchone()
    cursor, applied = (row[0] if row else None), 0
    while True:
        page = graphql(url, FEED, {"after": cursor, "first": batch}, token)["contactPointChanges"]
        with db:
            for change in page["changes"]:
                if change["kind"] == "UPSERT":
                    state = json.dumps(change["child"], sort_keys=True)
                    db.execute("INSERT OR REPLACE INTO children (id, state) VALUES (?, ?)", (change["childId"], state))
                else:
                    db.execute("DELETE FROM children WHERE id = ?", (change["childId"],))
                applied += 1
            cursor = page["endCursor"] or cursor
            db.execute("INSERT OR REPLACE INTO position (id, cursor) VALUES (1, ?)", (cursor,))
        if not page["hasMore"]:
            return applied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000/graphql")
    parser.add_argument("--username", default="contactpoint")
    parser.add_argument("--password-env", default="ESTART_FEED_PASSWORD", help="variable holding the password")
    parser.add_argument("--mirror", default="contactpoint-mirror.db")
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    password = os.environ.get(args.password_env)
    if not password:
        raise SystemExit(f"set {args.password_env} to the feed account's password")
    token = graphql(args.url, LOGIN, {"u": args.username, "p": password})["login"]["token"]
    db = open_mirror(args.mirror)
    applied = sync(args.url, token, db, args.batch)
    count = db.execute("SELECT count(*) FROM children").fetchone()[0]
    print(f"applied {applied} changes; the mirror holds {count} children")


if __name__ == "__main__":
    main()
