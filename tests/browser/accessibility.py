"""axe-core (package.json) run in the page under test: the rules a screen-reader or keyboard
user would trip over, by impact."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "node_modules/axe-core/axe.min.js"
BLOCKING = ("serious", "critical")


def violations(page: Page, impacts: tuple[str, ...] = BLOCKING) -> list[str]:
    """Each violated rule of the given impacts: its id, impact, how many elements, and the first one."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())  # evaluated, not a <script>: the pages' CSP allows no inline script
    found = page.evaluate(
        """async () => (await axe.run(document, { resultTypes: ["violations"] })).violations.map(
             (v) => ({ id: v.id, impact: v.impact, count: v.nodes.length, first: v.nodes[0].target.join(" ") }))"""
    )
    return [f"{v['id']} ({v['impact']}, {v['count']}x, e.g. {v['first']})" for v in found if v["impact"] in impacts]
