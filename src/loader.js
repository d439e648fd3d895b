// dist/factmark.js, the module pages embed: it picks one of the two builds of the widget and
// starts it. Reader pages (local storage only) get factmark_bg.wasm; pages that give an
// endpoint, or mount by hand and so may give one later, get factmark-sync_bg.wasm, which adds
// the sync engine (about 30 KB more after gzip). The wasm request goes out first, so it downloads
// while the smaller glue module does.
const here = import.meta.url;
const tag = [...document.querySelectorAll('script[src]')].find((s) => s.src === here);
const sync = !tag || tag.hasAttribute('data-endpoint') || tag.hasAttribute('data-manual');
const name = sync ? 'factmark-sync' : 'factmark';
try {
  const wasm = fetch(new URL(`${name}_bg.wasm`, here));
  const glue = await import(new URL(`${name}_bg.js`, here).href);
  await glue.default({ module_or_path: wasm });
  glue.boot(here);
} catch (e) {
  const message = `factmark could not start: ${e && e.message ? e.message : e}`;
  console.error(message);
  document.dispatchEvent(new CustomEvent('factmark:error', { detail: { message } }));
}
