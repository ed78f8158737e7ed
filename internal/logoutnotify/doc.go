// Package logoutnotify tells relying parties that a user's session at authd
// ended: OpenID Connect Back-Channel Logout 1.0 (a signed logout token POSTed
// to each client's backchannel_logout_uri) and the URLs of Front-Channel
// Logout 1.0 (iframes on the signed-out page).
//
// The one idea: a notification is written to the store's outbox (in the
// same transaction that forgets the session's clients) before anything is
// sent, and a worker on every replica claims due rows with a lease,
// delivers them through the outbound fetcher and deletes them on success;
// so a crash or restart loses nothing, and replicas deliver each row at
// least once without sending it twice while a lease holds.
//
// Which clients are told: those issued an authorization code (hence an
// id_token carrying the session's sid) in the session that ended, recorded
// by Joined when the code is issued. When a user's sessions end together
// (password change or reset, disabling, deletion, an administrator ending
// them), that is the clients of every session of the user still recorded.
package logoutnotify
