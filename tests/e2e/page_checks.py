"""What journey 5 measures in a rendered page: horizontal overflow, text
size, a separator ("·") starting a wrapped line, and axe-core's
accessibility violations.

axe-core comes from the npm registry, pinned in tests/e2e/package.json and
package-lock.json, and installed into tests/e2e/node_modules (ignored) by
tests/e2e/prepare.py. Playwright adds it to each page through the DevTools
protocol, which the site's Content-Security-Policy (no inline scripts) does
not apply to.
"""
from pathlib import Path

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING_IMPACTS = ("serious", "critical")
SMALLEST_TEXT_PX = 12
BODY_TEXT_PX = 16

# Each "·" that begins a line other than its box's first: the box is the
# nearest block that lays the dot's line out (a flex item's container, since
# a flex container's items share its lines), and "begins" means the dot sits
# at that box's left content edge.
STRAY_DOTS_FUNCTION = """
  const contentBox = el => {
    const style = getComputedStyle(el), box = el.getBoundingClientRect();
    return {left: box.left + parseFloat(style.borderLeftWidth) + parseFloat(style.paddingLeft),
            top: box.top + parseFloat(style.borderTopWidth) + parseFloat(style.paddingTop)};
  };
  const linesOwner = el => {
    const laysOutItems = node => node && /flex|grid/.test(getComputedStyle(node).display);
    while (el.parentElement && (getComputedStyle(el).display.startsWith('inline')
                                || getComputedStyle(el).display === 'contents' || laysOutItems(el.parentElement))) {
      el = el.parentElement;
    }
    return el;
  };
  const strayDots = () => {
    const found = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      for (let at = node.textContent.indexOf('\\u00b7'); at !== -1; at = node.textContent.indexOf('\\u00b7', at + 1)) {
        const range = document.createRange();
        range.setStart(node, at);
        range.setEnd(node, at + 1);
        const dot = range.getBoundingClientRect();
        if (!dot.width) continue;
        const owner = linesOwner(node.parentElement), box = contentBox(owner);
        if (Math.abs(dot.left - box.left) < 1 && dot.top > box.top + 1) {
          found.push(`${owner.tagName.toLowerCase()}.${owner.className}: "${owner.textContent.replace(/\\s+/g, ' ').trim().slice(0, 60)}"`);
        }
      }
    }
    return found;
  };
"""

LAYOUT_SCRIPT = """() => {
%(stray_dots)s
  const width = document.documentElement.clientWidth;
  const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const offscreen = el => el.closest('.visually-hidden, .honeypot, .skip-link');
  const sticksOut = [...document.querySelectorAll('body *')]
      .filter(el => !offscreen(el) && el.getBoundingClientRect().right > width + 1)
      .map(describe);
  const small = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || offscreen(el) || !el.getClientRects().length) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < %(smallest)d) small.push(`${describe(el)} ${size}px`);
  }
  const lineStartingSeparators = strayDots().slice(0, 8);
  return {
    width, screen: window.screen.width, lineStartingSeparators,
    overflow: document.documentElement.scrollWidth - width,
    sticksOut: sticksOut.slice(0, 8),
    small: small.slice(0, 8),
    bodyText: parseFloat(getComputedStyle(document.body).fontSize),
  };
}""" % {"smallest": SMALLEST_TEXT_PX, "stray_dots": STRAY_DOTS_FUNCTION}


def layout_problems(page):
    """Why the page would be hard to read at its width: [] when it is fine."""
    found = page.evaluate(LAYOUT_SCRIPT)
    problems = []
    if found["width"] > found["screen"]:  # no device-width viewport: a phone shows it shrunk
        problems.append(f"laid out {found['width']}px wide on a {found['screen']}px screen")
    if found["overflow"] > 0:
        problems.append(f"scrolls sideways by {found['overflow']}px; too wide: {found['sticksOut']}")
    if found["small"]:
        problems.append(f"text under {SMALLEST_TEXT_PX}px: {found['small']}")
    if found["lineStartingSeparators"]:
        problems.append(f"a wrapped line starts with a stray '·': {found['lineStartingSeparators']}")
    if found["bodyText"] < BODY_TEXT_PX:
        problems.append(f"body text is {found['bodyText']}px, under {BODY_TEXT_PX}px")
    return problems


def stray_separators(page):
    """Each "·" of the page that begins a wrapped line ([] when none does)."""
    return page.evaluate(f"() => {{ {STRAY_DOTS_FUNCTION} return strayDots(); }}")


def with_axe(context):
    """Every page of `context` gets axe-core before its own scripts run."""
    context.add_init_script(path=str(AXE))
    return context


def axe_violations(page, only=None, impacts=BLOCKING_IMPACTS):
    """axe-core's violations of `impacts` in the page as it is now, one line
    each: every WCAG 2.x A/AA and best-practice rule, or the rules `only` names."""
    run_only = {"type": "rule", "values": only} if only else {"type": "tag", "values": AXE_TAGS}
    results = page.evaluate(
        "runOnly => axe.run(document, {runOnly, resultTypes: ['violations']})", run_only)
    return [
        f"{violation['impact']} {violation['id']}: {violation['help']} "
        f"at {[node['target'] for node in violation['nodes']][:5]}"
        for violation in results["violations"] if violation["impact"] in impacts
    ]
