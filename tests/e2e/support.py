"""Helpers of the browser suite: sign in, open a screen, wait for it to settle, screenshot it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu"]
SETTLE_TIMEOUT_MS = 30_000


def sign_in(page: Any, app_url: str, email: str, password: str = "demo") -> None:
    """Open the app, fill the sign-in form and wait for the first screen."""
    page.goto(app_url)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.locator('[data-testid="stSidebarNav"]').wait_for(timeout=SETTLE_TIMEOUT_MS)
    settle(page)


def settle(page: Any) -> None:
    """Wait for the script run to finish (no "running" widget, and the page's elements unchanged
    over a quarter second) and for every chart to draw."""
    count = "() => document.querySelectorAll('[data-testid=\"stElementContainer\"]').length"
    running = "() => !!document.querySelector('[data-testid=\"stStatusWidget\"]')"
    deadline_checks = SETTLE_TIMEOUT_MS // 250
    previous = -1
    for _ in range(deadline_checks):
        current = page.evaluate(count)
        if current == previous and not page.evaluate(running):
            break
        previous = current
        page.wait_for_timeout(250)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]')]"
        ".every(c => c.querySelector('canvas, svg') || c.getBoundingClientRect().height === 0)",
        timeout=SETTLE_TIMEOUT_MS)
    page.wait_for_timeout(300)  # Vega's last paint after the canvas appears


def open_screen(page: Any, title: str) -> None:
    """Click a screen in the sidebar menu and wait until it has rendered."""
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    page.wait_for_function("t => [...document.querySelectorAll('h1')].some(h => h.innerText.startsWith(t))",
                           arg=title, timeout=SETTLE_TIMEOUT_MS)
    settle(page)


def click_cell(page: Any, x: float, y: float) -> None:
    """Click a grid cell as a person does: the pointer rests on it first, the button is held a moment (glide
    ignores a bare instant click on a cell it has not hovered)."""
    page.mouse.move(x, y)
    page.wait_for_timeout(300)
    page.mouse.click(x, y, delay=80)


def screenshot(page: Any, name: str) -> Path:
    """A full-page PNG of the app (the main area scrolls inside Streamlit, so grow the viewport first)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate("() => Math.max(document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight || 0,"
                           " document.body.scrollHeight)")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], int(height) + 40)})
    settle(page)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path


# Streamlit's dataframe is glide-data-grid: it paints on a canvas, so no DOM box tells a column's width or
# whether its text was clipped. The grid component's React props do: its `columns` carry the width each column
# is drawn at, and `getCellContent` returns the text drawn in a cell. A column is cut off when the header's title
# or a one-line text cell needs more than its drawn width (the text measured with the grid's own canvas font,
# plus the 8 px padding each side: glide's own auto-size rule), when a wrapping cell (a table with a taller row
# height) needs more lines than its row holds (greedy word wrap, 1.4 line height as glide draws it), or when
# the columns together are wider than the grid shows (a horizontal scrollbar hides the last ones). Every row
# is checked, not only the visible ones.
CUT_OFF_COLUMNS = r"""grid => {
  const problems = [];
  const canvas = grid.querySelector('canvas[data-testid="data-grid-canvas"]');
  const scroller = grid.querySelector('.dvn-scroller');
  const css = getComputedStyle(grid.querySelector('.stDataFrameGlideDataEditor'));
  const family = css.getPropertyValue('--gdg-font-family');
  const fonts = {header: `${css.getPropertyValue('--gdg-header-font-style')} ${family}`,
                 cell: `${css.getPropertyValue('--gdg-base-font-style')} ${family}`};
  const pad = 2 * parseFloat(css.getPropertyValue('--gdg-cell-horizontal-padding'));
  const vpad = 2 * parseFloat(css.getPropertyValue('--gdg-cell-vertical-padding'));
  const measure = document.createElement('canvas').getContext('2d');
  const width = (text, font) => { measure.font = font; return measure.measureText(text).width; };
  const key = Object.keys(canvas).find(k => k.startsWith('__reactFiber'));
  let fiber = canvas[key];
  while (fiber && !(fiber.memoizedProps && Array.isArray(fiber.memoizedProps.columns)
                    && typeof fiber.memoizedProps.getCellContent === 'function')) fiber = fiber.return;
  const name = `table "${[...grid.querySelectorAll('th')].map(th => th.innerText).slice(0, 3).join(', ')}..."`;
  if (!fiber) return [`${name}: grid columns not found`];
  const {columns, getCellContent, rows, rowHeight} = fiber.memoizedProps;
  const lines = (text, room) => {  // greedy word wrap of each paragraph, as glide wraps a cell
    let count = 0;
    for (const paragraph of text.split('\n')) {
      let line = '';
      count++;
      for (const word of paragraph.split(/\s+/)) {
        if (width(word, fonts.cell) > room) return Infinity;  // a word wider than the cell is clipped
        const next = line ? `${line} ${word}` : word;
        if (line && width(next, fonts.cell) > room) { count++; line = word; } else line = next;
      }
    }
    return count;
  };
  const fits = Math.max(1, Math.floor((rowHeight - vpad) / (parseFloat(fonts.cell.match(/(\d+)px/)[1]) * 1.4)));
  if (scroller.scrollWidth > scroller.clientWidth + 1)
    problems.push(`${name}: ${scroller.scrollWidth} px of columns in ${scroller.clientWidth} px`);
  columns.forEach((column, col) => {
    const header = width(column.title || '', fonts.header) + pad + (column.icon ? 28 : 0);
    if (header > column.width + 1)
      problems.push(`${name}: header "${column.title}" needs ${Math.ceil(header)} px, drawn ${column.width}`);
    for (let row = 0; row < Math.min(rows, 500); row++) {
      const cell = getCellContent([col, row]);
      if (!['text', 'number', 'uri', 'markdown'].includes(cell.kind)) break;
      const text = String(cell.displayData ?? '');
      const cut = cell.allowWrapping ? lines(text, column.width - pad) > fits
                                     : width(text, fonts.cell) + pad > column.width + 1;
      if (cut) {
        problems.push(`${name}: "${column.title}" row ${row + 1} "${text}" does not fit ${column.width} px`);
        break;
      }
    }
  });
  return problems;
}"""


def cut_off_columns(page: Any) -> list[str]:
    """Each visible table's columns drawn narrower than their header or text (empty: none is cut off). A grid
    draws only once scrolled into view, so each is scrolled to first."""
    problems: list[str] = []
    grids = page.locator('[data-testid="stDataFrame"]')
    for index in range(grids.count()):
        grid = grids.nth(index)
        if not grid.is_visible():
            continue
        grid.scroll_into_view_if_needed()
        grid.locator('canvas[data-testid="data-grid-canvas"]').wait_for(timeout=SETTLE_TIMEOUT_MS)
        problems += grid.evaluate(CUT_OFF_COLUMNS)
    return problems


# Text outside the grids that the page cuts: a metric's label (Streamlit ends a label that does not fit its
# column with an ellipsis: its text box scrolls wider than it shows), and a chart's text (Vega-Lite draws SVG
# here: it shortens a legend or axis label that passes its limit to "...", and a legend label wider than the
# chart runs past the SVG's edge, where it is clipped; axis titles sit in the padding and are not measured).
CUT_OFF_TEXT = r"""() => {
  const problems = [];
  for (const label of document.querySelectorAll('[data-testid="stMetricLabel"]')) {
    const boxes = [label, ...label.querySelectorAll('*')];
    if (boxes.some(b => b.scrollWidth > b.clientWidth + 1 && getComputedStyle(b).overflow !== 'visible'))
      problems.push(`metric label "${label.innerText}" is cut off`);
  }
  for (const svg of document.querySelectorAll('[data-testid="stVegaLiteChart"] svg')) {
    const frame = svg.getBoundingClientRect();
    for (const text of svg.querySelectorAll('text')) {
      const words = text.textContent || '';
      const box = text.getBoundingClientRect();
      if (!words.trim() || box.width === 0) continue;
      const legend = text.closest('.role-legend-label, .role-legend-title') !== null;
      if (words.endsWith('…') || (legend && (box.right > frame.right + 1 || box.left < frame.left - 1)))
        problems.push(`chart text "${words}" is cut off`);
    }
  }
  return problems;
}"""


def cut_off_text(page: Any) -> list[str]:
    """Metric labels and chart texts (legends, axes) the page cuts off (empty: none); see CUT_OFF_TEXT."""
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    for index in range(charts.count()):  # a chart draws once scrolled into view
        if charts.nth(index).is_visible():
            charts.nth(index).scroll_into_view_if_needed()
    return list(page.evaluate(CUT_OFF_TEXT))
