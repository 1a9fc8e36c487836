"""Admin → Onboarding guides: which Pendo guides count for onboarding progress (and the health
score's onboarding component), saved as a settings version like the weights and thresholds."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.ui import admin_settings, shared
from pendo_core.admin import users as auth
from pendo_core.admin.settings import HealthSettings
from pendo_core.usage.onboarding import GuideEntry, guide_catalogue


@st.cache_data(ttl=shared.TTL, show_spinner=False)
def load_guides() -> list[GuideEntry]:
    return guide_catalogue(shared.engine())


def _label(guide: GuideEntry) -> str:
    group = f" ({guide.group})" if guide.group else ""
    return f"{guide.name or '(no name)'}{group}"


def _pick(guides: list[GuideEntry], saved: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The toggle and, when on, the hand-picked list; None means "by name" (the default rule)."""
    named = [g.guide_id for g in guides if g.named_onboarding]
    by_hand = st.toggle("Pick onboarding guides by hand (instead of every guide whose name or group says "
                        "\"onboarding\")", saved is not None, key="admin_onb_by_hand")
    if not by_hand:
        names = ", ".join(_label(g) for g in guides if g.named_onboarding) or "none"
        st.caption(f"By name: {len(named)} guide(s): {names}.")
        return None
    labels = {g.guide_id: _label(g) for g in guides}
    default = [g for g in (saved if saved is not None else named) if g in labels]
    chosen = st.multiselect("Onboarding guides", list(labels), default=default, format_func=labels.__getitem__,
                            key="admin_onb_guides", placeholder="Pick the guides new users should complete")
    return tuple(chosen)


def _table(guides: list[GuideEntry], chosen: tuple[str, ...] | None) -> None:
    picked = set(chosen) if chosen is not None else {g.guide_id for g in guides if g.named_onboarding}
    rows = [{"onboarding": g.guide_id in picked, "name": g.name or "(no name)", "group": g.group or "",
             "state": g.state or "", "guide_id": g.guide_id} for g in guides]
    with st.expander(f"Every synced guide ({len(guides)})"):
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="admin_onb_table", column_config={
            "onboarding": st.column_config.CheckboxColumn("Onboarding"), "name": "Guide", "group": "Group",
            "state": "State", "guide_id": "Pendo id"})


def render(user: auth.User) -> None:
    """The onboarding tab: pick, then save as a new settings version."""
    version, saved = admin_settings.load_settings()
    guides = load_guides()
    st.markdown("#### Onboarding guides", help="Onboarding progress = onboarding guides a customer's users "
                "completed ÷ onboarding guides. It feeds the health score's onboarding component, which counts "
                "only while its weight (Health weights) is above 0.")
    st.caption(f"Settings version {version or '0 (product defaults)'}. Progress is recomputed with the new list "
               "from the next sync.")
    if not guides:
        st.info("No Pendo guides synced yet: run a sync first (Sync tab).")
        return
    chosen = _pick(guides, saved.health.onboarding_guide_ids)
    _table(guides, chosen)
    if chosen is not None and not chosen:
        st.warning("No guide picked: onboarding progress would be empty for every customer.")
    note = st.text_input("Note for this version", key="admin_onb_note", placeholder="Why the change")
    candidate = saved.model_copy(update={"health": HealthSettings.model_validate(
        {**saved.health.model_dump(), "onboarding_guide_ids": chosen})})
    if st.button("Save onboarding guides as a new version", key="admin_onb_save", type="primary",
                 disabled=candidate == saved, icon=":material/save:"):
        admin_settings.save(candidate, user.email, note, "Onboarding guides")
        st.rerun()
