// Session-timeout warning (WCAG 2.2.1): two minutes before a signed-in session would end for
// inactivity, a dialog offers to stay signed in; when it ends, the timeout page is shown.
// Without JavaScript the pages still work; the server ends the session after the same time.
(function () {
  'use strict';
  var body = document.body;
  var idle = parseInt(body.getAttribute('data-idle-seconds') || '0', 10);
  var token = document.querySelector('meta[name="ccr-csrf"]');
  var dialog = document.getElementById('timeout-dialog');
  if (!idle || !token || !dialog || typeof dialog.showModal !== 'function') return;
  var warnAt = Math.max(idle - 120, 1) * 1000;
  var warnTimer, endTimer;
  function schedule() {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    warnTimer = setTimeout(function () { dialog.showModal(); }, warnAt);
    endTimer = setTimeout(function () { window.location.href = '/session/timed-out'; }, idle * 1000);
  }
  document.getElementById('timeout-stay').addEventListener('click', function () {
    fetch('/session/keep-alive', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'x-csrf-token': token.getAttribute('content') }
    }).then(function (r) {
      if (r.ok) { dialog.close(); schedule(); } else { window.location.href = '/session/timed-out'; }
    });
  });
  schedule();
})();
