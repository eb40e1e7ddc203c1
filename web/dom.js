/* The few DOM helpers every view uses: build an element, set a status line,
 * read a chosen JSON file, copy a command to the clipboard. No framework:
 * the page must stay dependency-free. */

/* el('td', {class, text, title, onclick}, ...children): attributes, text
 * and event listeners in one call. */
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const k in attrs || {}) {
    if (k === 'class') e.className = attrs[k];
    else if (k === 'text') e.textContent = attrs[k];
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), attrs[k]);
    else e.setAttribute(k, attrs[k]);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

export function setStatus(node, text, isError) {
  node.textContent = text || '';
  node.classList.toggle('error', !!isError);
}

/* The JSON in a file <input>: rejects with the file name on a parse error. */
export function readFileJSON(input) {
  return new Promise((resolve, reject) => {
    const f = input.files && input.files[0];
    if (!f) { reject(new Error('no file')); return; }
    const r = new FileReader();
    r.onload = () => { try { resolve(JSON.parse(r.result)); } catch (e) { reject(new Error(f.name + ': ' + e.message)); } };
    r.onerror = () => reject(r.error);
    r.readAsText(f);
  });
}

/* Clipboard writes need a secure context: on plain http the button says so. */
export function copyText(text, button) {
  const done = (ok) => {
    const old = button.dataset.label || (button.dataset.label = button.textContent);
    button.textContent = ok ? 'Copied' : 'Copy failed: select the text';
    setTimeout(() => { button.textContent = old; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(() => done(true), () => done(false));
  else done(false);
}
