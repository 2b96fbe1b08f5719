//go:build !unix

package hub

import "context"

// lockFile is a no-op where there is no flock: concurrent pulls of one
// file into one cache are not serialised there.
func lockFile(ctx context.Context, _ string) (func(), error) {
	return func() {}, ctx.Err()
}
