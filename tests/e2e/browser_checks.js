// In-page checks of the browser journeys' validators (tests/e2e/validators.py), evaluated by
// Playwright: `window.__incubateurChecks.reflow()` and `.focus()`. Both return plain data.
(() => {
  // A short CSS path naming the element (stops at the nearest id), and its opening tag.
  function describe(el) {
    const parts = [];
    for (let e = el; e && e.nodeType === 1 && parts.length < 4; e = e.parentElement) {
      let part = e.tagName.toLowerCase();
      if (e.id) {
        parts.unshift(`${part}#${CSS.escape(e.id)}`);
        break;
      }
      if (e.classList.length) part += '.' + [...e.classList].slice(0, 2).map(CSS.escape).join('.');
      parts.unshift(part);
    }
    const tag = el.outerHTML.slice(0, el.outerHTML.indexOf('>') + 1);
    return {selector: parts.join(' > '), snippet: tag.length > 160 ? tag.slice(0, 157) + '...' : tag};
  }

  // Reflow (WCAG 1.4.10): the document no wider than the viewport. If it is, the elements
  // that start the overflow: wider than the viewport while their parent is not (or, when
  // the parents all overflow too, the innermost ones). Content inside a scrolling or
  // clipping box does not widen the page and is left out.
  function reflow() {
    const root = document.documentElement;
    const viewport = root.clientWidth;
    const width = root.scrollWidth;
    if (width <= viewport) return null;
    const clipped = el => {
      for (let a = el.parentElement; a && a !== document.body && a !== root; a = a.parentElement) {
        if (getComputedStyle(a).overflowX !== 'visible') return true;
      }
      return false;
    };
    const over = el => {
      const r = el.getBoundingClientRect();
      return (r.width > 0 || r.height > 0) && r.right > viewport + 0.5 && !clipped(el);
    };
    const overflowing = [...document.body.querySelectorAll('*')].filter(el =>
      over(el) && getComputedStyle(el).position !== 'fixed');
    const set = new Set(overflowing);
    let starts = overflowing.filter(el => !set.has(el.parentElement) && el.parentElement !== null);
    if (!starts.length) starts = overflowing.filter(el => ![...el.children].some(c => set.has(c)));
    return {
      viewport, width,
      elements: starts.slice(0, 5).map(el => ({...describe(el),
        right: Math.round(el.getBoundingClientRect().right)})),
    };
  }

  function parseColor(value) {
    const m = /rgba?\(([^)]+)\)/.exec(value || '');
    if (!m) return null;
    const p = m[1].split(/[\s,/]+/).filter(Boolean).map(parseFloat);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  }
  const over = (top, bottom) => [0, 1, 2].map(i => top[3] * top[i] + (1 - top[3]) * bottom[i]);
  function luminance(rgb) {
    const [r, g, b] = rgb.map(v => {
      const c = v / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }
  function contrast(a, b) {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  }
  // The colour behind `el`: its own background and its ancestors', composed down to the
  // first opaque one (the canvas is white). Background images are not read.
  function backgroundBehind(el) {
    const layers = [];
    for (let a = el; a; a = a.parentElement) {
      const bg = parseColor(getComputedStyle(a).backgroundColor);
      if (bg && bg[3] > 0) {
        layers.push(bg);
        if (bg[3] >= 1) break;
      }
    }
    return layers.reverse().reduce((below, layer) => over(layer, below), [255, 255, 255]);
  }

  const STYLE_KEYS = ['outlineStyle', 'outlineWidth', 'outlineColor', 'boxShadow', 'borderTopColor',
    'borderBottomColor', 'backgroundColor', 'color', 'textDecorationLine', 'textDecorationThickness'];
  const snapshot = el => {
    const cs = getComputedStyle(el);
    return Object.fromEntries(STYLE_KEYS.map(k => [k, cs[k]]));
  };

  // Focus appearance (WCAG 1.4.11 / 2.4.7): each focusable element, focused while the
  // keyboard is the last input (the caller pressed Tab first, so :focus-visible applies as
  // when tabbing), has an outline or a box-shadow at least 3:1 against the background behind
  // it (or its box-shadow's best colour). An element whose focus shows otherwise (border, background) is counted, not measured;
  // one whose style does not change at all has no indicator.
  function focus() {
    const scroll = [window.scrollX, window.scrollY];
    const selector = 'a[href], area[href], button, input, select, textarea, summary, iframe, ' +
      '[tabindex], [contenteditable=""], [contenteditable="true"]';
    const failures = [];
    let measured = 0, otherwise = 0, notFocusVisible = 0;
    for (const el of document.querySelectorAll(selector)) {
      if (el.disabled || el.tabIndex < 0 || el.type === 'hidden') continue;
      if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
      const before = snapshot(el);
      el.focus({preventScroll: true});
      if (document.activeElement !== el) continue;
      if (!el.matches(':focus-visible')) {
        notFocusVisible += 1;
        continue;
      }
      // Each part of the indicator with the background it is drawn on: an outline outside
      // the element on its parent's, an inset one (or an inset shadow) on the element's own.
      // The best part counts (a dark ring with a light halo passes on any background).
      const cs = getComputedStyle(el);
      const parts = [];
      if (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) {
        parts.push([cs.outlineColor, parseFloat(cs.outlineOffset) + parseFloat(cs.outlineWidth) <= 0]);
      }
      // A shadow the element has anyway (a card's) is no focus indicator.
      if (cs.boxShadow && cs.boxShadow !== 'none' && cs.boxShadow !== before.boxShadow) {
        for (const shadow of cs.boxShadow.split(/,(?![^(]*\))/)) {
          const color = (shadow.match(/rgba?\([^)]*\)/) || [])[0];
          if (color) parts.push([color, /\binset\b/.test(shadow)]);
        }
      }
      if (!parts.length) {
        const after = snapshot(el);
        if (STYLE_KEYS.some(k => before[k] !== after[k])) otherwise += 1;
        else failures.push({...describe(el), rule: 'focus-indicator-missing',
          message: "aucun indicateur de focus visible (ni outline, ni box-shadow, ni autre style changé)"});
        continue;
      }
      let best = 0, bestColor = parts[0][0], bestBackground = [255, 255, 255];
      for (const [color, inside] of parts) {
        const rgba = parseColor(color);
        if (!rgba || rgba[3] === 0) continue;
        const background = backgroundBehind(inside ? el : (el.parentElement || el));
        const ratio = contrast(over(rgba, background), background);
        if (ratio > best) [best, bestColor, bestBackground] = [ratio, color, background];
      }
      measured += 1;
      if (best === 0) {
        failures.push({...describe(el), rule: 'focus-indicator-unread',
          message: `couleur de l'indicateur illisible : ${parts.map(p => p[0]).join(', ')}`});
      } else if (best < 3) {
        const bg = `rgb(${bestBackground.map(Math.round).join(', ')})`;
        failures.push({...describe(el), rule: 'focus-indicator-contrast',
          message: `indicateur ${bestColor} sur ${bg} : ${best.toFixed(2)}:1 (3:1 au moins)`});
      }
    }
    if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
    window.scrollTo(scroll[0], scroll[1]);
    return {failures, measured, otherwise, notFocusVisible};
  }

  window.__incubateurChecks = {reflow, focus};
})();
