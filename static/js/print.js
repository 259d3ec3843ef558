// Print buttons (no inline handlers: the pages' Content-Security-Policy allows no inline script).
document.addEventListener('click', (event) => {
  if (event.target.closest('[data-print]')) window.print();
});
