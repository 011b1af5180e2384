#include "tools/valprep/place.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "lib/io/write_all.h"

namespace forge {
namespace valprep {
namespace {

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Closes a file descriptor on every path out of a function.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now, returning close()'s errno (0 on success): close can report a failed write.
  int Close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

// Reads up to `size` bytes, fewer only at the end of the file; -1 on error.
ssize_t ReadFull(int fd, char* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, data + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

// rename() that fails with EEXIST instead of replacing `to`. Returns 0 or an errno value.
int RenameNoReplace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) return errno;
  // The file system lacks RENAME_NOREPLACE (some network file systems): link() refuses an
  // existing name too. A crash between link and unlink leaves two names of one inode, which a
  // rerun treats as already placed.
  if (::link(from.c_str(), to.c_str()) == 0) {
    return ::unlink(from.c_str()) == 0 ? 0 : errno;
  }
  if (errno == EEXIST || errno == EXDEV) return errno;
  // No hard links either: check, then rename; only a concurrent writer could slip in between.
  struct stat info;
  if (::lstat(to.c_str(), &info) == 0) return EEXIST;
  return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : errno;
}

absl::Status MoveFile(const std::string& source, const std::string& destination) {
  const int error = RenameNoReplace(source, destination);
  if (error == 0) return absl::OkStatus();
  if (error != EXDEV) {
    return absl::ErrnoToStatus(error, absl::StrCat("cannot move ", source, " to ", destination));
  }
  // Across file systems: the copy must be complete and durable before the source goes, so
  // that a crash at any point leaves at least one whole file (a rerun finishes the move).
  if (absl::Status copied = CopyFileAtomically(source, destination); !copied.ok()) return copied;
  if (absl::Status synced = SyncDirectory(DirectoryOf(destination)); !synced.ok()) return synced;
  if (::unlink(source.c_str()) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("copied ", source, " to ", destination,
                                          " but cannot remove the source"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PlaceMode> ParsePlaceMode(absl::string_view name) {
  if (name == "move") return PlaceMode::kMove;
  if (name == "copy") return PlaceMode::kCopy;
  if (name == "hardlink") return PlaceMode::kHardlink;
  if (name == "symlink") return PlaceMode::kSymlink;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown mode '", name, "': use move, copy, hardlink or symlink"));
}

absl::string_view PlaceModeName(PlaceMode mode) {
  switch (mode) {
    case PlaceMode::kMove:
      return "move";
    case PlaceMode::kCopy:
      return "copy";
    case PlaceMode::kHardlink:
      return "hardlink";
    case PlaceMode::kSymlink:
      return "symlink";
  }
  return "?";
}

absl::Status PlaceFile(const std::string& source, const std::string& destination,
                       PlaceMode mode) {
  switch (mode) {
    case PlaceMode::kMove:
      return MoveFile(source, destination);
    case PlaceMode::kCopy:
      return CopyFileAtomically(source, destination);
    case PlaceMode::kHardlink:
      // AT_SYMLINK_FOLLOW: if the source is a symlink, link the file it names, not the link.
      if (::linkat(AT_FDCWD, source.c_str(), AT_FDCWD, destination.c_str(), AT_SYMLINK_FOLLOW) !=
          0) {
        return absl::ErrnoToStatus(errno, absl::StrCat("cannot hard-link ", source, " as ", destination));
      }
      return absl::OkStatus();
    case PlaceMode::kSymlink: {
      std::error_code ec;
      const std::filesystem::path target = std::filesystem::absolute(source, ec).lexically_normal();
      if (ec) return absl::ErrnoToStatus(ec.value(), absl::StrCat("cannot make ", source, " absolute"));
      if (::symlink(target.c_str(), destination.c_str()) != 0) {
        return absl::ErrnoToStatus(errno, absl::StrCat("cannot create the symlink ", destination, " -> ",
                                              target.string()));
      }
      return absl::OkStatus();
    }
  }
  return absl::InternalError("unknown PlaceMode");
}

absl::Status CopyFileAtomically(const std::string& source, const std::string& destination) {
  Fd in(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", source));
  struct stat info;
  if (::fstat(in.get(), &info) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot stat ", source));
  // Hidden and without an image extension, so neither valprep nor an ImageFolder-style loader
  // mistakes a leftover (after kill -9) for an image.
  std::string temp = absl::StrCat(DirectoryOf(destination), "/.valprep-tmp-XXXXXX");
  Fd out(::mkostemp(temp.data(), O_CLOEXEC));
  if (out.get() < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot create a temporary file beside ", destination));
  }
  auto fail = [&temp](int error, absl::string_view what) {
    ::unlink(temp.c_str());
    return absl::ErrnoToStatus(error, what);
  };
  constexpr size_t kBufferSize = 1 << 20;
  std::unique_ptr<char[]> buffer(new char[kBufferSize]);
  while (true) {
    const ssize_t n = ReadFull(in.get(), buffer.get(), kBufferSize);
    if (n < 0) return fail(errno, absl::StrCat("cannot read ", source));
    if (n == 0) break;
    if (absl::Status written = WriteAll(out.get(), absl::string_view(buffer.get(), static_cast<size_t>(n)), temp);
        !written.ok()) {
      ::unlink(temp.c_str());
      return written;
    }
  }
  const struct timespec times[2] = {info.st_atim, info.st_mtim};
  ::fchmod(out.get(), info.st_mode & 0777);  // best effort, like cp -p
  ::futimens(out.get(), times);
  if (::fsync(out.get()) != 0) return fail(errno, absl::StrCat("cannot fsync ", temp));
  if (const int error = out.Close(); error != 0) {
    return fail(error, absl::StrCat("cannot write ", temp));
  }
  if (const int error = RenameNoReplace(temp, destination); error != 0) {
    return fail(error, absl::StrCat("cannot rename ", temp, " to ", destination));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> SameContents(const std::string& a, const std::string& b) {
  Fd fa(::open(a.c_str(), O_RDONLY | O_CLOEXEC));
  if (fa.get() < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", a));
  Fd fb(::open(b.c_str(), O_RDONLY | O_CLOEXEC));
  if (fb.get() < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", b));
  struct stat sa, sb;
  if (::fstat(fa.get(), &sa) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot stat ", a));
  if (::fstat(fb.get(), &sb) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot stat ", b));
  if (sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino) return true;
  if (sa.st_size != sb.st_size) return false;
  constexpr size_t kChunk = 1 << 16;
  std::unique_ptr<char[]> ba(new char[kChunk]), bb(new char[kChunk]);
  while (true) {
    const ssize_t na = ReadFull(fa.get(), ba.get(), kChunk);
    if (na < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", a));
    const ssize_t nb = ReadFull(fb.get(), bb.get(), kChunk);
    if (nb < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", b));
    if (na != nb || std::memcmp(ba.get(), bb.get(), static_cast<size_t>(na)) != 0) return false;
    if (na == 0) return true;
  }
}

absl::Status SyncDirectory(const std::string& directory) {
  Fd fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open directory ", directory));
  // Some file systems cannot fsync a directory (EINVAL); their metadata is then as durable as
  // they make it, which is not ours to fix.
  if (::fsync(fd.get()) != 0 && errno != EINVAL) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot fsync directory ", directory));
  }
  return absl::OkStatus();
}

}  // namespace valprep
}  // namespace forge
