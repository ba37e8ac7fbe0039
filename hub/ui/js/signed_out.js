// The session or token behind this page has ended (signed out elsewhere, expired, password changed, user
// deleted): go to the sign-in page, which says why. The reason is shown as text, never as markup.
export function signedOut(reason) {
  if (signedOut.leaving) return; // the socket, the event stream and a refresh may all notice: go once
  signedOut.leaving = true;
  const query = reason ? `?ended=${encodeURIComponent(reason)}` : "";
  location.assign(`/login${query}`);
}
