"""The tagged product: apps, pages, features and guides, as Pendo's REST objects and as sampling tables."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_APP_ID = -323232
MOBILE_APP_ID = 5734577372839936
APP_IDS = (DEFAULT_APP_ID, MOBILE_APP_ID)
SERVERS = ("app.flowpilot.io", "com.flowpilot.mobile")
WEB_URL = "https://app.flowpilot.io"
DAY_MS = 86_400_000

# (name, path, weight, app index)
PAGES: tuple[tuple[str, str, float, int], ...] = (
    ("Dashboard", "/dashboard", 30, 0),
    ("Reports", "/reports", 12, 0),
    ("Report Builder", "/reports/new", 5, 0),
    ("Projects", "/projects", 15, 0),
    ("Project Detail", "/projects/*", 14, 0),
    ("Tasks", "/tasks", 12, 0),
    ("Calendar", "/calendar", 5, 0),
    ("Inbox", "/inbox", 8, 0),
    ("Analytics", "/analytics", 6, 0),
    ("Integrations", "/settings/integrations", 2, 0),
    ("Settings", "/settings", 3, 0),
    ("Billing", "/settings/billing", 1, 0),
    ("User Management", "/settings/users", 2, 0),
    ("Mobile Home", "/home", 10, 1),
    ("Mobile Task List", "/tasks", 8, 1),
    ("Mobile Notifications", "/notifications", 4, 1),
)

# (name, page name or None for app-wide, weight, core event, app index)
FEATURES: tuple[tuple[str, str | None, float, bool, int], ...] = (
    ("Add Widget", "Dashboard", 3, False, 0),
    ("Date Range Picker", "Dashboard", 6, False, 0),
    ("Share Dashboard", "Dashboard", 1, False, 0),
    ("Refresh Data", "Dashboard", 4, False, 0),
    ("Export CSV", "Reports", 4, True, 0),
    ("Schedule Report", "Reports", 1, False, 0),
    ("Filter Reports", "Reports", 5, False, 0),
    ("Create Report", "Report Builder", 4, True, 0),
    ("Add Chart", "Report Builder", 3, False, 0),
    ("Save Template", "Report Builder", 1, False, 0),
    ("New Project", "Projects", 3, True, 0),
    ("Archive Project", "Projects", 1, False, 0),
    ("Project Search", "Projects", 5, False, 0),
    ("Assign Owner", "Project Detail", 2, False, 0),
    ("Add Comment", "Project Detail", 5, False, 0),
    ("Upload File", "Project Detail", 2, False, 0),
    ("Change Status", "Project Detail", 4, False, 0),
    ("Create Task", "Tasks", 5, True, 0),
    ("Complete Task", "Tasks", 6, False, 0),
    ("Bulk Edit", "Tasks", 1, False, 0),
    ("Task Filter", "Tasks", 3, False, 0),
    ("Create Event", "Calendar", 3, False, 0),
    ("Sync Calendar", "Calendar", 1, False, 0),
    ("Reply Message", "Inbox", 5, False, 0),
    ("Mark All Read", "Inbox", 2, False, 0),
    ("Run Analysis", "Analytics", 4, True, 0),
    ("Compare Periods", "Analytics", 2, False, 0),
    ("Download Chart", "Analytics", 1, False, 0),
    ("Connect Integration", "Integrations", 2, False, 0),
    ("Configure Webhook", "Integrations", 1, False, 0),
    ("Update Profile", "Settings", 2, False, 0),
    ("Change Notifications", "Settings", 1, False, 0),
    ("Update Payment Method", "Billing", 1, False, 0),
    ("Download Invoice", "Billing", 2, False, 0),
    ("Invite User", "User Management", 3, True, 0),
    ("Change Role", "User Management", 1, False, 0),
    ("Global Search", None, 4, False, 0),
    ("Help Widget", None, 1, False, 0),
    ("Mobile Quick Add", "Mobile Home", 3, False, 1),
    ("Mobile Complete Task", "Mobile Task List", 5, False, 1),
    ("Mobile Push Opt-in", "Mobile Notifications", 1, False, 1),
    ("Mobile Open Notification", "Mobile Notifications", 4, False, 1),
)

# (name, group name, number of steps, app index, onboarding audience, weight, page name of step 1)
GUIDES: tuple[tuple[str, str, int, int, bool, float, str], ...] = (
    ("Welcome Onboarding Tour", "Getting started", 4, 0, True, 3, "Dashboard"),
    ("Connect your first integration", "Onboarding", 3, 0, True, 2, "Integrations"),
    ("New Report Builder announcement", "Announcements", 1, 0, False, 3, "Reports"),
    ("Release notes: spring", "Announcements", 1, 0, False, 2, "Dashboard"),
    ("Dashboard tips", "Tips", 2, 0, False, 2, "Dashboard"),
    ("Tell us what you think", "Feedback", 1, 0, False, 1, "Dashboard"),
    ("Billing walkthrough", "Tips", 5, 0, False, 1, "Billing"),
    ("Mobile welcome", "Getting started", 2, 1, False, 2, "Mobile Home"),
)

_ID_ALPHABET = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))
ADMIN = {
    "id": "5649338561462272",
    "username": "ada.admin@flowpilot.io",
    "first": "Ada",
    "last": "Admin",
    "role": 8,
    "userType": "",
}


def pendo_ids(rng: np.random.Generator, count: int, length: int = 27) -> list[str]:
    """Opaque Pendo-style object ids (27 url-safe characters)."""
    picks = rng.integers(0, len(_ID_ALPHABET), size=(count, length))
    return ["".join(row) for row in _ID_ALPHABET[picks]]


def _stable_version(object_id: str, ms: int) -> str:
    stamp = np.datetime64(ms, "ms").astype("datetime64[s]").astype(str).replace("-", "").replace(":", "")
    return f"{object_id}-{stamp.replace('T', '')}.000000000"


@dataclass(frozen=True)
class Catalog:
    """Pages, features and guides, plus the arrays the activity generator samples from."""

    pages: list[dict[str, Any]]
    features: list[dict[str, Any]]
    guides: list[dict[str, Any]]
    page_app: np.ndarray  # (P,) app index
    page_cdf: np.ndarray  # (2, P) cumulative page weights per app
    page_feats: np.ndarray  # (P, K) feature indices per page, -1 padded
    page_feat_cdf: np.ndarray  # (P, K) cumulative feature weights per page
    appwide: np.ndarray  # feature indices of app-wide web features
    feature_core: np.ndarray  # (F,) bool
    feature_weight: np.ndarray  # (F,) relative popularity
    guide_app: np.ndarray  # (G,) app index
    guide_onboarding: np.ndarray  # (G,) bool
    guide_weight: np.ndarray  # (G,)
    guide_steps: list[list[str]]  # step ids in rank order


def build_catalog(seed: int, epoch_ms: int) -> Catalog:
    """The product's tagged objects; `epoch_ms` is the start of the simulated history."""
    rng = np.random.default_rng([seed, 0xCA7])
    page_ids, feature_ids, guide_ids = (
        pendo_ids(rng, len(PAGES)),
        pendo_ids(rng, len(FEATURES)),
        pendo_ids(rng, len(GUIDES)),
    )
    created = [epoch_ms - int(rng.integers(60, 700)) * DAY_MS for _ in range(len(PAGES) + len(FEATURES))]
    pages = [_page(i, page_ids[i], created[i], rng) for i in range(len(PAGES))]
    page_index = {p[0]: i for i, p in enumerate(PAGES)}
    features = [
        _feature(i, feature_ids[i], _page_id_of(FEATURES[i][1], page_ids, page_index), created[len(PAGES) + i], rng)
        for i in range(len(FEATURES))
    ]
    guides, steps = _guides(rng, guide_ids, page_ids, page_index, epoch_ms)
    page_app, page_cdf, page_feats, page_feat_cdf, appwide, core, weight = _page_tables(page_index)
    guide_app, guide_onboarding, guide_weight = _guide_tables()
    return Catalog(
        pages=pages,
        features=features,
        guides=guides,
        page_app=page_app,
        page_cdf=page_cdf,
        page_feats=page_feats,
        page_feat_cdf=page_feat_cdf,
        appwide=appwide,
        feature_core=core,
        feature_weight=weight,
        guide_app=guide_app,
        guide_onboarding=guide_onboarding,
        guide_weight=guide_weight,
        guide_steps=steps,
    )


def _page_tables(page_index: dict[str, int]) -> tuple[np.ndarray, ...]:
    page_app = np.array([p[3] for p in PAGES], dtype=np.int8)
    weights = np.array([p[2] for p in PAGES], dtype=float)
    cdf = np.zeros((2, len(PAGES)))
    for app in (0, 1):
        w = np.where(page_app == app, weights, 0.0)
        cdf[app] = np.cumsum(w) / w.sum()
    cdf[cdf > 1 - 1e-9] = 1.0  # exact 1.0 so a uniform draw never runs past the app's last page
    per_page: list[list[int]] = [[] for _ in PAGES]
    for f, feat in enumerate(FEATURES):
        if feat[1] is not None:
            per_page[page_index[feat[1]]].append(f)
    width = max(len(x) for x in per_page)
    feats = np.full((len(PAGES), width), -1, dtype=np.int32)
    fcdf = np.ones((len(PAGES), width))
    for p, members in enumerate(per_page):
        w = np.array([FEATURES[f][2] for f in members], dtype=float)
        feats[p, : len(members)] = members
        fcdf[p, : len(members)] = np.cumsum(w) / w.sum()
    fcdf[fcdf > 1 - 1e-9] = 1.0
    appwide = np.array([f for f, feat in enumerate(FEATURES) if feat[1] is None], dtype=np.int32)
    core = np.array([feat[3] for feat in FEATURES])
    weight = np.array([feat[2] for feat in FEATURES], dtype=float)
    return page_app, cdf, feats, fcdf, appwide, core, weight


def _guide_tables() -> tuple[np.ndarray, ...]:
    return (
        np.array([g[3] for g in GUIDES], dtype=np.int8),
        np.array([g[4] for g in GUIDES]),
        np.array([g[5] for g in GUIDES], dtype=float),
    )


def _common(object_id: str, app: int, name: str, kind: str, *, created: int, updated: int) -> dict[str, Any]:
    return {
        "id": object_id,
        "appId": APP_IDS[app],
        "name": name,
        "kind": kind,
        "color": "gray",
        "createdByUser": ADMIN,
        "createdAt": created,
        "lastUpdatedByUser": ADMIN,
        "lastUpdatedAt": updated,
        "rootVersionId": object_id,
        "stableVersionId": _stable_version(object_id, updated),
        "dirty": False,
        "dailyMergeFirst": created,
        "dailyRollupFirst": created,
    }


def _group(name: str, created: int) -> dict[str, Any]:
    slug = name.lower().replace(" ", "-")
    return {
        "id": f"grp-{slug}",
        "name": name,
        "description": "",
        "color": ".groupColor01",
        "length": 0,
        "items": None,
        "type": "",
        "createdAt": created,
        "lastUpdatedAt": created,
        "createdByUser": ADMIN,
        "lastUpdatedByUser": ADMIN,
    }


def _page(i: int, page_id: str, created: int, rng: np.random.Generator) -> dict[str, Any]:
    name, path, _, app = PAGES[i]
    updated = created + int(rng.integers(0, 50)) * DAY_MS
    obj = _common(page_id, app, name, "Page", created=created, updated=updated)
    host = WEB_URL if app == 0 else f"app://{SERVERS[1]}"
    rule = f"//*{path}"
    parsed = "^https?://[^/]*" + path.replace("*", "[^/]+") + "/?(?:;|\\?|#|$)"
    obj |= {
        "group": _group("Product areas", created),
        "rules": [{"rule": rule, "designerHint": host + path.replace("*", "42"), "parsedRule": parsed}],
        "rulesjson": "",
        "isAutoTagged": False,
        "suggestedName": "",
        "validThrough": updated,
        "isCoreEvent": False,
    }
    return obj


def _page_id_of(page: str | None, page_ids: list[str], page_index: dict[str, int]) -> str | None:
    return None if page is None else page_ids[page_index[page]]


def _feature(i: int, feature_id: str, page_id: str | None, created: int, rng: np.random.Generator) -> dict[str, Any]:
    name, page, _, core, app = FEATURES[i]
    updated = created + int(rng.integers(0, 50)) * DAY_MS
    obj = _common(feature_id, app, name, "Feature", created=created, updated=updated)
    selector = "button[data-action='" + name.lower().replace(" ", "-") + "']"
    obj |= {
        "group": _group("Core workflows" if core else "Product areas", created),
        "isCoreEvent": core,
        "appWide": page is None,
        "elementPathRules": [selector],
        "elementSelectionType": "",
        "eventPropertyConfigurations": [],
    }
    if page_id is not None:
        obj["pageId"] = page_id
    return obj


# Guide fields that are the same for every simulated guide (deep-copied into each one).
_GUIDE_CONSTANTS: dict[str, Any] = {
    "state": "public", "isTraining": False, "isModule": False, "isTopLevel": False, "publishedEver": True,
    "resetAt": 0, "showsAfter": 0, "expiresAfter": 0, "recurrence": 0, "recurrenceEligibilityWindow": 0,
    "emailState": "", "description": "", "editorType": "visualDesigner", "polls": [],
    "audience": [{"source": {"visitors": None}}, {"select": {"visitorId": "visitorId"}}, {"identified": "visitorId"}],
    "conversion": {"attributionWindow": 0, "itemId": "", "itemType": ""},
}  # fmt: skip


def _guides(
    rng: np.random.Generator, guide_ids: list[str], page_ids: list[str], page_index: dict[str, int], epoch_ms: int
) -> tuple[list[dict[str, Any]], list[list[str]]]:
    guides, all_steps = [], []
    for g, (name, group, n_steps, app, _, _, page) in enumerate(GUIDES):
        gid = guide_ids[g]
        created = epoch_ms - int(rng.integers(20, 300)) * DAY_MS
        updated = created + int(rng.integers(1, 15)) * DAY_MS
        step_ids = pendo_ids(rng, n_steps)
        obj = _common(gid, app, name, "Guide", created=created, updated=updated) | copy.deepcopy(_GUIDE_CONSTANTS)
        obj |= {
            "appIds": [APP_IDS[app]], "group": _group(group, created), "publishedAt": updated,
            "launchMethod": "auto" if n_steps > 1 else "launcher", "isMultiStep": n_steps > 1,
            "attributes": {"type": "building-block", "device": {"type": "all"}, "priority": 9 - g, "badge": None,
                           "activation": None},
            "steps": [_step(sid, gid, k, page_ids[page_index[page]] if k == 0 else "", updated)
                      for k, sid in enumerate(step_ids)],
        }  # fmt: skip
        guides.append(obj)
        all_steps.append(step_ids)
    return guides, all_steps


def _step(step_id: str, guide_id: str, k: int, page_id: str, updated: int) -> dict[str, Any]:
    return {
        "id": step_id,
        "guideId": guide_id,
        "type": "building-block",
        "name": f"Step {k + 1}",
        "rank": 5_000_000 + 2_500_000 * k,
        "pageId": page_id,
        "regexUrlRule": "",
        "elementPathRule": "",
        "advanceMethod": "button",
        "contentType": "application/javascript",
        "contentUrl": "",
        "contentUrlCss": "",
        "contentUrlJs": "",
        "pollIds": [],
        "lastUpdatedAt": updated,
        "resetAt": 0,
        "attributes": {"height": 300, "width": 400, "autoHeight": True, "css": ""},
    }
