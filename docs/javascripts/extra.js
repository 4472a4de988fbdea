// Wide tables scroll sideways inside a box the theme adds when a page loads: make that box
// reachable with the keyboard, so that its hidden columns can be scrolled into view.
document$.subscribe(() => {
  for (const box of document.querySelectorAll(".md-typeset__scrollwrap")) {
    box.tabIndex = 0;
  }
});
