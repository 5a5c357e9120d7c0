package gitsrc

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"sync"
)

// Content is a blob's content as read.
type Content struct {
	// Data holds the content; it is valid until the next call to Next.
	Data []byte
	// Size is the blob's size, also when Data was not read.
	Size int64
	// Missing is set when the repository lacks the object.
	Missing bool
	// TooLarge is set when Size exceeds the limit: Data is empty.
	TooLarge bool
	// NotBlob is set when the object is a tree (or anything but a blob).
	NotBlob bool
}

// BlobReader reads blob contents through one `git cat-file --batch`
// process. Queue and Next may be called from two goroutines: one queues
// ids ahead, so git inflates the next blob while the caller scans this
// one; the other takes the contents in the order they were queued.
type BlobReader struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	w      *bufio.Writer
	r      *bufio.Reader
	stderr bytes.Buffer
	buf    []byte
	max    int64

	waitOnce sync.Once
	waitErr  error
}

// NewBlobReader starts a reader that reads blobs of at most maxSize bytes
// (larger ones are reported TooLarge and skipped over).
func (r *Repo) NewBlobReader(ctx context.Context, maxSize int64) (*BlobReader, error) {
	b := &BlobReader{cmd: r.command(ctx, "cat-file", "--batch"), max: maxSize}
	b.cmd.Stderr = &b.stderr
	var err error
	if b.stdin, err = b.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("start git cat-file: %w", err)
	}
	out, err := b.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start git cat-file: %w", err)
	}
	if err := b.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start git cat-file: %w", err)
	}
	b.w = bufio.NewWriter(b.stdin)
	b.r = bufio.NewReaderSize(out, 1<<16)
	return b, nil
}

// Queue asks for the object id. The request may stay buffered until
// Flush: call it before waiting on anything, or Next may wait forever.
func (b *BlobReader) Queue(id string) error {
	b.w.WriteString(id)
	if err := b.w.WriteByte('\n'); err != nil {
		// git has stopped; Next reports why.
		return fmt.Errorf("request object %s: %w", id, err)
	}
	return nil
}

// Flush sends the queued requests to git.
func (b *BlobReader) Flush() error {
	if err := b.w.Flush(); err != nil {
		return fmt.Errorf("request objects: %w", err)
	}
	return nil
}

// Next returns the content of the oldest queued object that has not been
// returned yet.
func (b *BlobReader) Next() (Content, error) {
	header, err := b.r.ReadSlice('\n')
	if err != nil {
		return Content{}, b.fail(fmt.Errorf("read object header: %w", err))
	}
	f := bytes.Fields(header)
	if len(f) == 2 && string(f[1]) == "missing" {
		return Content{Missing: true}, nil
	}
	if len(f) != 3 {
		return Content{}, b.fail(fmt.Errorf("read object: unexpected header %q", bytes.TrimSpace(header)))
	}
	size, err := strconv.ParseInt(string(f[2]), 10, 64)
	if err != nil {
		return Content{}, b.fail(fmt.Errorf("read object %s: bad size %q", f[0], f[2]))
	}
	if string(f[1]) != "blob" {
		if _, err := b.r.Discard(int(size) + 1); err != nil {
			return Content{}, b.fail(fmt.Errorf("read object %s: %w", f[0], err))
		}
		return Content{Size: size, NotBlob: true}, nil
	}
	if size > b.max {
		if _, err := b.r.Discard(int(size) + 1); err != nil {
			return Content{}, b.fail(fmt.Errorf("read object %s: %w", f[0], err))
		}
		return Content{Size: size, TooLarge: true}, nil
	}
	if int64(cap(b.buf)) < size+1 {
		b.buf = make([]byte, size+1)
	}
	b.buf = b.buf[:size+1]
	if _, err := io.ReadFull(b.r, b.buf); err != nil {
		return Content{}, b.fail(fmt.Errorf("read object %s: %w", f[0], err))
	}
	return Content{Data: b.buf[:size], Size: size}, nil
}

// wait ends the git process once and returns git's own reason if it
// failed.
func (b *BlobReader) wait() error {
	b.waitOnce.Do(func() {
		_ = b.stdin.Close()
		drain(b.r)
		if err := b.cmd.Wait(); err != nil {
			b.waitErr = gitError("cat-file", err, b.stderr.Bytes())
		}
	})
	return b.waitErr
}

// fail prefers git's own reason (a corrupt object, say) to err.
func (b *BlobReader) fail(err error) error {
	if werr := b.wait(); werr != nil {
		return werr
	}
	return err
}

// Close stops the git process.
func (b *BlobReader) Close() error { return b.wait() }
