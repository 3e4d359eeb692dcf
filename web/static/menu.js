// menu.js — the header on small screens, and the keyboard's way out of
// panels. Below 40rem the signed-in header keeps one row: the sections and
// the account go into a menu behind one button (#menu-toggle); on wider
// screens the menu's contents sit in the header itself (CSS). Escape
// closes the menu, or the sign-in panel, and gives the focus back to the
// button that opened it.

const $ = (id) => document.getElementById(id);

/** initMenu wires the header menu and Escape; call once. */
export function initMenu() {
  const top = $("top");
  const toggle = $("menu-toggle");
  const menu = $("menu");
  if (!top || !toggle || !menu) return;
  const setOpen = (open) => {
    top.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", String(open));
  };
  toggle.addEventListener("click", () => {
    const open = !top.classList.contains("open");
    setOpen(open);
    if (open) menu.querySelector("a:not([hidden]), button")?.focus();
  });
  // A choice in the menu (a section, sign out) closes it.
  menu.addEventListener("click", (e) => {
    if (e.target.closest("a, button")) setOpen(false);
  });
  document.addEventListener("click", (e) => {
    if (top.classList.contains("open") && !top.contains(e.target)) setOpen(false);
  });
  addEventListener("hashchange", () => setOpen(false));
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || e.defaultPrevented) return;
    if (top.classList.contains("open")) {
      setOpen(false);
      toggle.focus();
      return;
    }
    const auth = $("auth-panel");
    if (auth && !auth.hidden) {
      auth.hidden = true;
      $("signin-open")?.focus();
    }
  });
}
