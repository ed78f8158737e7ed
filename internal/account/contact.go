package account

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/authd/authd/internal/store"
)

// maxPhoneBytes bounds a phone number: E.164 is 15 digits, and an extension
// and the punctuation people write add a little.
const maxPhoneBytes = 64

// updateContact applies the phone and address parts of u to p.
func updateContact(p *store.UserProfile, u ProfileUpdate) error {
	if u.PhoneNumber != nil {
		phone := strings.TrimSpace(*u.PhoneNumber)
		if len(phone) > maxPhoneBytes || strings.IndexFunc(phone, func(r rune) bool {
			return !(unicode.IsDigit(r) || strings.ContainsRune(" +-().;=extEXT", r))
		}) >= 0 {
			return &InputError{Field: "phone_number", Reason: "A phone number is at most 64 characters of digits, spaces and + - ( ) . (E.164, +1 555 0100, is best)."}
		}
		if phone != p.PhoneNumber {
			p.PhoneNumber, p.PhoneNumberVerified = phone, false
		}
	}
	if u.PhoneNumberVerified != nil {
		p.PhoneNumberVerified = *u.PhoneNumberVerified
	}
	if p.PhoneNumber == "" && p.PhoneNumberVerified {
		return &InputError{Field: "phone_number_verified", Reason: "There is no phone number to verify."}
	}
	if u.Address != nil {
		a := *u.Address
		for _, f := range []struct {
			field string
			v     *string
			lines bool // street_address and formatted may span lines (§5.1.1)
		}{{"formatted", &a.Formatted, true}, {"street_address", &a.StreetAddress, true}, {"locality", &a.Locality, false},
			{"region", &a.Region, false}, {"postal_code", &a.PostalCode, false}, {"country", &a.Country, false}} {
			v := strings.TrimSpace(*f.v)
			bad := !utf8.ValidString(v) || utf8.RuneCountInString(v) > 2*MaxNameRunes || strings.IndexFunc(v, func(r rune) bool {
				return unicode.IsControl(r) && !(f.lines && r == '\n')
			}) >= 0
			if bad {
				return &InputError{Field: "address." + f.field, Reason: "Address parts must be valid text of at most 400 characters, without control characters."}
			}
			*f.v = v
		}
		p.Address = &a
		if a.IsZero() {
			p.Address = nil
		}
	}
	return nil
}
