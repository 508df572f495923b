// A tiny DOM builder: every text goes through textContent, so data from the backend can never become markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

let svgNamespace;
/** An SVG element (the namespace is read from a parsed <svg>, so no namespace URL is spelt out in code). */
export function s(tag, attrs = {}, ...children) {
  if (!svgNamespace) {
    const t = document.createElement('template');
    t.innerHTML = '<svg></svg>';
    svgNamespace = t.content.firstChild.namespaceURI;
  }
  const el = document.createElementNS(svgNamespace, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'class') el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * Replaces the children of `root` with `content`, then puts the focus back on the element that had it (matched
 * by its data-key), so a re-render never throws a keyboard user back to the top.
 */
export function replaceContent(root, content) {
  const active = document.activeElement;
  const key = active && root.contains(active) ? active.dataset.key : undefined;
  root.replaceChildren(...[content].flat(Infinity).filter(Boolean));
  if (key) {
    const again = root.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again) again.focus();
  }
}
