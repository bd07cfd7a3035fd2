// Package profilepics serves the profile pictures users choose from
// (Download Profile Picture #8, List Profile Pictures #9): a small set of
// SkillFlaw's own images in two folders, People and Space, built into the
// binary. A directory (SKILLFLAW_PROFILE_PICTURES_DIR, by default
// <config dir>/profile_pictures) with the same layout replaces them, as
// Langflow's config_dir/profile_pictures does: a picture is looked up there
// first, then among the built-in ones; the list is the directory's if it
// has any picture, else the built-in one.
package profilepics

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"

	"github.com/gin-gonic/gin"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
)

//go:embed images
var builtin embed.FS

// Folders are the folders of pictures, in the order List gives them.
var Folders = []string{"People", "Space"}

// List returns the pictures as "Folder/name", from dir when it holds any,
// else the built-in ones.
func List(dir string) ([]string, error) {
	if dir != "" {
		out, err := list(os.DirFS(dir))
		if err != nil {
			return nil, err
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	sub, err := fs.Sub(builtin, "images")
	if err != nil {
		return nil, err
	}
	return list(sub)
}

func list(fsys fs.FS) ([]string, error) {
	var out []string
	for _, folder := range Folders {
		entries, err := fs.ReadDir(fsys, folder)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var names []string
		for _, e := range entries {
			if e.Type().IsRegular() {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		for _, n := range names {
			out = append(out, folder+"/"+n)
		}
	}
	return out, nil
}

// Read returns picture folder/name, from dir first, then the built-in
// ones. Both parts must be plain names (domain.ValidFileName): anything
// that could step out of the folder is refused before any file is opened.
func Read(dir, folder, name string) ([]byte, error) {
	for _, part := range []string{folder, name} {
		if err := domain.ValidFileName(part); err != nil {
			return nil, err
		}
	}
	if dir != "" {
		data, err := os.ReadFile(filepath.Join(dir, folder, name))
		if err == nil {
			return data, nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !isDir(err) {
			return nil, err
		}
	}
	data, err := fs.ReadFile(builtin, "images/"+folder+"/"+name)
	if err != nil {
		return nil, domain.NotFoundf("Profile picture %s/%s not found", folder, name)
	}
	return data, nil
}

// isDir tells a read of a directory (not a picture either).
func isDir(err error) bool {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		if st, serr := os.Stat(pe.Path); serr == nil && st.IsDir() {
			return true
		}
	}
	return false
}

// Register serves #8 and #9 (public, as in Langflow) from dir and the
// built-in pictures.
func Register(s *httpapi.Server, dir string) {
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/files/profile_pictures/list", Tag: "Files",
		Summary: "List Profile Pictures", Public: true,
		Description: `List profile pictures: {"files": ["People/…", "Space/…"]}. Pictures in the configured ` +
			"directory (SKILLFLAW_PROFILE_PICTURES_DIR) replace the built-in ones.",
		Handler: func(c *gin.Context) {
			files, err := List(dir)
			if err != nil {
				httpapi.Fail(c, fmt.Errorf("list profile pictures: %w", err))
				return
			}
			c.JSON(http.StatusOK, gin.H{"files": files})
		}})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/files/profile_pictures/{folder_name}/{file_name}",
		Tag: "Files", Summary: "Download Profile Picture", Public: true,
		Params: []httpapi.Param{{Name: "folder_name", In: "path"}, {Name: "file_name", In: "path"}},
		Description: "Download a profile picture: first from the configured directory, then the built-in ones; " +
			"its media type by its extension.",
		Handler: func(c *gin.Context) {
			folder, name := c.Param("folder_name"), c.Param("file_name")
			data, err := Read(dir, folder, name)
			if err != nil {
				httpapi.Fail(c, err)
				return
			}
			c.Header("X-Content-Type-Options", "nosniff")
			c.Header("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'")
			c.Header("Cache-Control", "public, max-age=3600")
			c.Data(http.StatusOK, readapi.ContentTypeOf(name), data)
		}})
}
