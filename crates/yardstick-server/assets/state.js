// What the dashboard's views share: the project's meta, the choices the
// user made on each page, and small DOM helpers.

export const state = { meta: null };
export const UI = { filters: {}, entity: {}, dim: {}, explain: {}, barPeriod: {}, why: {}, whyVs: {}, whyRoots: {}, focus: {}, act: {} };
export const $ = (s, el = document) => el.querySelector(s);
export const main = () => $("#main");

// Asks the router to render the open view again (a filter changed).
export function rerender() {
  window.dispatchEvent(new Event("yardstick:render"));
}
