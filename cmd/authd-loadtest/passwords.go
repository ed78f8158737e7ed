package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// builtinPasswords are common passwords from the head of SecLists'
// 10k-most-common list (MIT; the full list ships in internal/password as
// common-passwords.txt, which --passwords can point at), in its order, with
// the offensive entries left out. An attacker sprays these first.
var builtinPasswords = []string{
	"password", "123456", "12345678", "1234", "qwerty", "12345", "dragon",
	"baseball", "football", "letmein", "monkey", "696969", "abc123", "mustang",
	"michael", "shadow", "master", "jennifer", "111111", "2000", "jordan",
	"superman", "harley", "1234567", "hunter", "trustno1", "ranger", "buster",
	"thomas", "tigger", "robert", "soccer", "batman", "test", "pass", "killer",
	"hockey", "george", "charlie", "andrew", "michelle", "love", "sunshine",
	"jessica", "6969", "pepper", "daniel", "access", "123456789", "654321",
	"joshua", "maggie", "starwars", "silver", "william", "dallas", "yankees",
	"123123", "ashley", "666666", "hello", "amanda", "orange", "freedom",
	"computer", "thunder", "nicole", "ginger", "heather", "hammer", "summer",
	"corvette", "taylor", "austin", "1111", "merlin", "matthew", "121212",
	"golfer", "cheese", "princess", "martin", "chelsea", "patrick", "richard",
	"diamond", "yellow", "bigdog", "secret", "asdfgh", "sparky", "cowboy",
}

// loadPasswords reads one password a line from path (blank lines skipped),
// at most maxPasswords; "" returns the built-in list.
func loadPasswords(path string) ([]string, error) {
	if path == "" {
		return builtinPasswords, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() && len(out) < maxPasswords {
		if w := strings.TrimRight(sc.Text(), "\r"); w != "" {
			out = append(out, w)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no passwords", path)
	}
	return out, nil
}
