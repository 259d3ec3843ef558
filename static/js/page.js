// Small page behaviours bound by data attributes instead of inline handlers (onclick=, onchange=,
// onsubmit=), which the Content-Security-Policy forbids: [data-print] prints the page,
// select[data-autosubmit] sends its form when changed, form[data-confirm] asks before it is sent.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-autosubmit]");
  if (select && select.form) select.form.submit();
});
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});
