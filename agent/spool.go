package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
)

// Spool file suffixes. A spool file is the binary protobuf of the request
// that reports the trial, so a restarted agent sends it again unchanged.
const (
	spoolComplete = ".complete" // a CompleteTrialRequest
	spoolFail     = ".fail"     // a FailTrialRequest
	spoolTemp     = ".tmp-"     // prefix of a file still being written
	rejectedDir   = "rejected"
)

// spool is a folder of reports that the coordinator has not acknowledged
// yet. A report is written there, and synced, before it is sent, and
// removed only after a final outcome, so a crash at any moment loses none.
type spool struct {
	dir string
}

// openSpool creates dir when needed and removes the temporary files that an
// interrupted write left behind.
func openSpool(dir string) (*spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create spool folder: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read spool folder: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), spoolTemp) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("remove unfinished spool file: %w", err)
			}
		}
	}
	return &spool{dir: dir}, nil
}

// pathComplete returns the path of the file that putComplete writes for
// lease.
func (s *spool) pathComplete(l *modsweepv1.Lease) string {
	return filepath.Join(s.dir, spoolName(l)+spoolComplete)
}

// putComplete stores req and returns the path of its file.
func (s *spool) putComplete(req *modsweepv1.CompleteTrialRequest) (string, error) {
	return s.put(spoolName(req.GetLease())+spoolComplete, req)
}

// putFail stores req and returns the path of its file.
func (s *spool) putFail(req *modsweepv1.FailTrialRequest) (string, error) {
	return s.put(spoolName(req.GetLease())+spoolFail, req)
}

// spoolName names the file of a lease's report: one file per attempt.
func spoolName(l *modsweepv1.Lease) string {
	return fmt.Sprintf("%s.%s.%d", safeFileName(l.GetSweepId()), safeFileName(l.GetTrialId()), l.GetEpoch())
}

// put writes msg atomically: into a temporary file that is synced, then
// renamed over name, then the folder is synced so the rename survives a
// power loss.
func (s *spool) put(name string, msg proto.Message) (string, error) {
	data, err := proto.Marshal(msg)
	if err != nil {
		return "", fmt.Errorf("encode spool file %s: %w", name, err)
	}
	f, err := os.CreateTemp(s.dir, spoolTemp+"*")
	if err != nil {
		return "", fmt.Errorf("create spool file: %w", err)
	}
	tmp := f.Name()
	if err := writeSync(f, data); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("write spool file %s: %w", tmp, err)
	}
	path := filepath.Join(s.dir, name)
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("rename spool file to %s: %w", path, err)
	}
	if err := syncDir(s.dir); err != nil {
		return "", err
	}
	return path, nil
}

func writeSync(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open spool folder for sync: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync spool folder %s: %w", dir, err)
	}
	return nil
}

// list returns the paths of the stored reports in name order.
func (s *spool) list() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("read spool folder: %w", err)
	}
	var paths []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, spoolTemp) {
			continue
		}
		if strings.HasSuffix(name, spoolComplete) || strings.HasSuffix(name, spoolFail) {
			paths = append(paths, filepath.Join(s.dir, name))
		}
	}
	slices.Sort(paths)
	return paths, nil
}

// load reads the report in path: a *CompleteTrialRequest or a
// *FailTrialRequest.
func (s *spool) load(path string) (proto.Message, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read spool file: %w", err)
	}
	var msg proto.Message
	switch {
	case strings.HasSuffix(path, spoolComplete):
		msg = &modsweepv1.CompleteTrialRequest{}
	case strings.HasSuffix(path, spoolFail):
		msg = &modsweepv1.FailTrialRequest{}
	default:
		return nil, fmt.Errorf("spool file %s has an unknown suffix: expected %s or %s", path, spoolComplete, spoolFail)
	}
	if err := proto.Unmarshal(data, msg); err != nil {
		return nil, fmt.Errorf("decode spool file %s: %w", path, err)
	}
	return msg, nil
}

// remove deletes a delivered report. A file already gone counts as removed,
// because two agents may share a spool folder.
func (s *spool) remove(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove delivered spool file: %w", err)
	}
	return nil
}

// reject moves a report that the coordinator rejects for good into the
// rejected subfolder, where a person can inspect it, and returns its new
// path.
func (s *spool) reject(path string) (string, error) {
	dir := filepath.Join(s.dir, rejectedDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create rejected spool folder: %w", err)
	}
	dst := filepath.Join(dir, filepath.Base(path))
	if err := os.Rename(path, dst); err != nil {
		return "", fmt.Errorf("move rejected spool file: %w", err)
	}
	return dst, nil
}
