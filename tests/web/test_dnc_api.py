"""The do-not-call list through its API, against the real app on loopback."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.conftest import GUARD

from voiceagent.providers.simulated import CalleeDirectory, ScriptedCallee

NUMBER = "+14155550142"
CSV = "text/csv"


def _hold_the_line() -> CalleeDirectory:
    directory = CalleeDirectory.bundled()
    directory.register(NUMBER, ScriptedCallee(["Sure, go ahead."]))
    return directory


async def _entries(live: Any, **params: int) -> dict[str, Any]:
    response = await live.http.get("/dnc", params=params)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_empty_list(live_app: Any) -> None:
    async with live_app() as live:
        assert await _entries(live) == {"entries": [], "total": 0}


async def test_operator_adds_a_number_once_with_source_note_and_time(live_app: Any) -> None:
    async with live_app() as live:
        first = await live.http.post("/dnc", json={"phone": "+1 (415) 555-0142", "note": "asked"})
        again = await live.http.post("/dnc", json={"phone": NUMBER, "note": "different"})
        listed = await _entries(live)
    assert first.status_code == 201
    assert again.status_code == 200
    entry = first.json()
    assert entry["phone"] == NUMBER
    assert (entry["source"], entry["call_id"], entry["note"]) == ("operator", None, "asked")
    assert entry["created_at"].endswith(("Z", "+00:00"))
    assert again.json() == entry  # the first entry stands: its source and time are not rewritten
    assert listed == {"entries": [entry], "total": 1}


@pytest.mark.parametrize(
    ("phone", "reason"),
    [
        ("415555", "not a valid US number"),
        ("+1415", "not a valid"),
        ("+99912345678", "not a phone number"),
    ],
)
async def test_bad_number_is_422_with_the_reason(live_app: Any, phone: str, reason: str) -> None:
    async with live_app() as live:
        added = await live.http.post("/dnc", json={"phone": phone})
        removed = await live.http.delete(f"/dnc/{phone}")
        listed = await _entries(live)
    assert added.status_code == removed.status_code == 422
    assert added.json()["detail"][0]["loc"] == ["body", "phone"]
    assert removed.json()["detail"][0]["loc"] == ["path", "phone"]
    assert reason in added.json()["detail"][0]["msg"]
    assert reason in removed.json()["detail"][0]["msg"]
    assert listed["total"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"note": "x"},
        {"phone": NUMBER, "source": "import"},
        {"phone": NUMBER, "note": "x" * 501},
    ],
)
async def test_malformed_add_is_422(live_app: Any, body: dict[str, Any]) -> None:
    async with live_app() as live:
        response = await live.http.post("/dnc", json=body)
    assert response.status_code == 422


async def test_a_listed_number_is_refused_409_until_removed(live_app: Any) -> None:
    async with live_app(_hold_the_line()) as live:
        await live.http.post("/dnc", json={"phone": NUMBER})
        refused = await live.http.post("/call/start", json={"phone": NUMBER})
        removed = await live.http.delete(f"/dnc/{NUMBER}")
        removed_again = await live.http.delete(f"/dnc/{NUMBER}")
        accepted = await live.http.post("/call/start", json={"phone": NUMBER})
        await live.carrier.wait_for(accepted.json()["twilio_sid"], timeout=GUARD)
        listed = await _entries(live)
    assert refused.status_code == 409
    assert "do-not-call" in refused.json()["detail"]
    assert removed.status_code == 204
    assert removed_again.status_code == 404
    assert "not on the list" in removed_again.json()["detail"]
    assert accepted.status_code == 202
    assert listed["total"] == 0


async def test_a_callers_request_is_listed_with_its_call(live_app: Any) -> None:
    async with live_app() as live:
        call = await live.run_call("+14155550106")  # the do-not-call persona
        listed = await _entries(live)
    assert call["end_reason"] == "caller_dnc"
    [entry] = listed["entries"]
    assert (entry["phone"], entry["source"], entry["call_id"]) == (
        "+14155550106",
        "caller_request",
        call["call_id"],
    )


async def test_list_pages_newest_first(live_app: Any) -> None:
    async with live_app() as live:
        phones = [f"+1415555010{digit}" for digit in range(1, 6)]
        for phone in phones:
            assert (await live.http.post("/dnc", json={"phone": phone})).status_code == 201
        page = await _entries(live, limit=2, offset=0)
        rest = await _entries(live, limit=10, offset=2)
        bad = [
            await live.http.get("/dnc", params=params)
            for params in ({"limit": 0}, {"limit": 501}, {"offset": -1})
        ]
    assert page["total"] == rest["total"] == 5
    assert [e["phone"] for e in page["entries"] + rest["entries"]] == phones[::-1]
    assert {r.status_code for r in bad} == {422}


IMPORT = (
    "name,phone,company\n"
    "Ann,+14155550101,Acme\n"  # row 2: added
    "Bob,415555,Acme\n"  # row 3: too short
    "\n"  # blank: skipped, still counted as a record number
    "Cy,+1 415 555 0103,Beta\n"  # row 5: added, any spelling of the number
    "Di,+14155550101,Acme\n"  # row 6: twice in the file
    "Ed,+14155550142,Gamma\n"  # row 7: listed before the import
    "Flo\n"  # row 8: no phone column at all
)


async def test_csv_import_adds_valid_numbers_and_reports_every_bad_row(live_app: Any) -> None:
    async with live_app() as live:
        await live.http.post("/dnc", json={"phone": NUMBER, "note": "operator first"})
        response = await live.http.post(
            "/dnc/import",
            content=IMPORT.encode(),
            headers={"Content-Type": CSV},
            params={"note": "crm export"},
        )
        listed = await _entries(live)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["added"], report["already_listed"]) == (2, 2)
    assert [(bad["row"], bad["value"]) for bad in report["invalid"]] == [
        (3, "415555"),
        (8, ""),
    ]
    assert "not a valid US number" in report["invalid"][0]["reason"]
    by_phone = {e["phone"]: e for e in listed["entries"]}
    assert set(by_phone) == {"+14155550101", "+14155550103", NUMBER}
    assert by_phone["+14155550101"]["source"] == "import"
    assert by_phone["+14155550101"]["note"] == "crm export"
    assert by_phone[NUMBER]["source"] == "operator"


@pytest.mark.parametrize(
    ("body", "added", "invalid_rows"),
    [
        ("+14155550101\n+14155550102\n", 2, []),  # no header: the first column
        ("+14155550101,Ann\nnot a number,Bob\n", 1, [2]),
        ("Phone;Name\n+14155550101;Ann\n+14155550102;Bob\n", 2, []),  # semicolons, any case
        ("\ufeffphone\n+14155550101\n", 1, []),  # Excel's byte-order mark
        ("", 0, []),
    ],
)
async def test_csv_shapes(live_app: Any, body: str, added: int, invalid_rows: list[int]) -> None:
    async with live_app() as live:
        response = await live.http.post(
            "/dnc/import", content=body.encode(), headers={"Content-Type": CSV}
        )
    assert response.status_code == 200, response.text
    assert response.json()["added"] == added
    assert [bad["row"] for bad in response.json()["invalid"]] == invalid_rows


async def test_a_real_sized_list_is_imported(live_app: Any) -> None:
    # 10,000 numbers (~130 KB): bigger than a webhook, well inside what a sales team uploads.
    body = "phone\n" + "".join(f"+1415{2_000_000 + n}\n" for n in range(10_000))
    async with live_app() as live:
        response = await live.http.post(
            "/dnc/import", content=body.encode(), headers={"Content-Type": CSV}
        )
        listed = await _entries(live, limit=1)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "added": 10_000,
        "already_listed": 0,
        "invalid": [],
        "invalid_count": 0,
    }
    assert listed["total"] == 10_000


async def test_an_import_echoes_the_first_hundred_bad_rows_and_counts_the_rest(
    live_app: Any,
) -> None:
    long_cell = "9" * 5_000
    body = "phone\n" + long_cell + "\n" + "not a number\n" * 249 + "+14155550101\n"
    async with live_app() as live:
        response = await live.http.post(
            "/dnc/import", content=body.encode(), headers={"Content-Type": CSV}
        )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["added"], report["invalid_count"]) == (1, 250)
    assert [bad["row"] for bad in report["invalid"]] == list(range(2, 102))
    assert report["invalid"][0]["value"] == "9" * 40 + "…"
    assert len(report["invalid"][0]["reason"]) < 100


async def test_the_service_answers_while_a_large_import_runs(live_app: Any) -> None:
    # Batches are committed as they go: seeing some but not all of the numbers listed means
    # the import is under way, and /healthz must answer then, not after it.
    count = 60_000
    body = "phone\n" + "".join(f"+1415{2_000_000 + n}\n" for n in range(count))
    async with live_app() as live:
        importing = asyncio.create_task(
            live.http.post("/dnc/import", content=body.encode(), headers={"Content-Type": CSV})
        )
        answered_mid_import = False
        while not importing.done() and not answered_mid_import:
            listed = (await _entries(live, limit=1))["total"]
            if 0 < listed < count:
                health = await live.http.get("/healthz")
                assert health.status_code == 200
                answered_mid_import = not importing.done()
            await asyncio.sleep(0)  # nothing waited for: the requests above are the pace
        response = await importing
    assert response.status_code == 200, response.text
    assert response.json()["added"] == count
    assert answered_mid_import


async def test_a_list_in_us_national_format_is_imported(live_app: Any) -> None:
    # The national registry's own download: ten digits a line, no country code.
    body = "4155550101\n(415) 555-0102\n415.555.0103\n1 415 555 0104\n"
    async with live_app() as live:
        response = await live.http.post(
            "/dnc/import", content=body.encode(), headers={"Content-Type": CSV}
        )
        added = await live.http.post("/dnc", json={"phone": "(415) 555-0105"})
        removed = await live.http.delete("/dnc/415-555-0101")
        listed = await _entries(live)
    assert response.status_code == 200, response.text
    assert (response.json()["added"], response.json()["invalid_count"]) == (4, 0)
    assert added.json()["phone"] == "+14155550105"
    assert removed.status_code == 204
    assert sorted(e["phone"] for e in listed["entries"]) == [
        f"+1415555010{n}" for n in (2, 3, 4, 5)
    ]


async def test_csv_import_as_a_multipart_file(live_app: Any) -> None:
    async with live_app() as live:
        response = await live.http.post(
            "/dnc/import", files={"file": ("numbers.csv", b"phone\n+14155550101\n", CSV)}
        )
        listed = await _entries(live)
    assert response.status_code == 200, response.text
    assert response.json() == {"added": 1, "already_listed": 0, "invalid": [], "invalid_count": 0}
    assert listed["entries"][0]["source"] == "import"


@pytest.mark.parametrize(
    ("request_args", "status", "detail"),
    [
        ({"content": b"\xff\xfe+1415", "headers": {"Content-Type": CSV}}, 422, "UTF-8"),
        ({"json": {"phone": NUMBER}}, 415, "text/csv"),
        ({"data": {"note": "no file"}, "files": {}}, 415, "text/csv"),
        ({"files": {"other": (None, b"just a field")}}, 422, "no CSV file"),
        # Refused by the import's own 5 MB cap or by the app-wide body limit, whichever is lower.
        ({"content": b"+14155550101\n" * 420_000, "headers": {"Content-Type": CSV}}, 413, ""),
    ],
    ids=["not-utf8", "json", "form", "multipart-without-file", "too-large"],
)
async def test_csv_import_errors(
    live_app: Any, request_args: dict[str, Any], status: int, detail: str
) -> None:
    async with live_app() as live:
        response = await live.http.post("/dnc/import", **request_args)
        listed = await _entries(live)
    assert response.status_code == status, response.text
    answer = response.json()["detail"]
    assert detail in (answer[0]["msg"] if status == 422 else answer)
    assert listed["total"] == 0


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/dnc", {}),
        ("POST", "/dnc", {"json": {"phone": NUMBER}}),
        ("DELETE", f"/dnc/{NUMBER}", {}),
        ("POST", "/dnc/import", {"content": NUMBER.encode(), "headers": {"Content-Type": CSV}}),
    ],
)
async def test_every_route_needs_the_token_when_api_token_is_set(
    live_app: Any, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    async with live_app(api_token="s3cret-token-" + "x" * 32) as live:
        allowed = await live.http.request(method, path, **kwargs)
        token = live.http.headers.pop("Authorization")
        missing = await live.http.request(method, path, **kwargs)
        wrong_token = {**kwargs.get("headers", {}), "Authorization": "Bearer wrong"}
        wrong = await live.http.request(method, path, **{**kwargs, "headers": wrong_token})
        live.http.headers["Authorization"] = token
        listed = await _entries(live)
    assert allowed.status_code in (200, 201, 404)
    assert missing.status_code == wrong.status_code == 401
    assert listed["total"] == (1 if method == "POST" else 0)


async def test_a_csv_with_bare_carriage_returns_or_nul_bytes_is_read(
    live_app: Any,
) -> None:
    async with live_app() as live:
        old_mac = await live.http.post(
            "/dnc/import",
            content=b"phone\r+14155550171\r+14155550172\r",
            headers={"Content-Type": "text/csv"},
        )
        broken = await live.http.post(
            "/dnc/import", content=b"+1415555\x000173\n", headers={"Content-Type": "text/csv"}
        )
    assert old_mac.status_code == 200
    assert old_mac.json()["added"] == 2
    assert broken.status_code == 200  # read, and the number reported invalid: never a 500
    assert broken.json()["added"] == 0
    assert len(broken.json()["invalid"]) == 1
