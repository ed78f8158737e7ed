// Package store is authd's storage contract: small interfaces per entity, the
// records they hold, and sentinel errors.
//
// Backends (store/sqlite, store/postgres) implement every interface and pass the
// shared conformance suite in store/storetest. Services take the narrowest
// interface they need. Storage never builds protocol errors and never sees a raw
// token or secret: only their SHA-256.
package store
