package app

import "errors"

func demoBoardMain(args []string) error {
	return errors.New("not built yet")
}
