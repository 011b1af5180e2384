#include "tools/valprep/plan.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "lib/util/progress.h"

namespace forge {
namespace valprep {
namespace {

std::string JoinPath(const std::string& directory, absl::string_view name) {
  if (!directory.empty() && directory.back() == '/') return absl::StrCat(directory, name);
  return absl::StrCat(directory, "/", name);
}

// stat (follow = true) or lstat `path`: true if it exists, false if it does not (ENOENT, or
// ENOTDIR for a path through a file), an error otherwise.
absl::StatusOr<bool> StatPath(const std::string& path, bool follow, struct stat* info) {
  const int result = follow ? ::stat(path.c_str(), info) : ::lstat(path.c_str(), info);
  if (result == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  return absl::ErrnoToStatus(errno, absl::StrCat("cannot stat ", path));
}

// The device of `path` or, if it does not exist yet, of its nearest existing ancestor.
absl::StatusOr<dev_t> DeviceOf(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(path, ec).lexically_normal();
  if (ec) return absl::ErrnoToStatus(ec.value(), absl::StrCat("cannot make ", path, " absolute"));
  while (true) {
    struct stat info;
    absl::StatusOr<bool> exists = StatPath(p.string(), /*follow=*/true, &info);
    if (!exists.ok()) return exists.status();
    if (*exists) return info.st_dev;
    if (!p.has_relative_path()) return absl::InternalError(absl::StrCat("cannot stat / for ", path));
    p = p.parent_path();
  }
}

std::string SizeConflict(const struct stat& source, const struct stat& destination) {
  return absl::StrCat("destination has ", destination.st_size, " bytes, source ", source.st_size);
}

}  // namespace

absl::StatusOr<Plan> MakePlan(const std::vector<LabeledImage>& images, const PlanOptions& options) {
  Plan plan;
  struct stat val_info;
  absl::StatusOr<bool> val_exists = StatPath(options.val_dir, /*follow=*/true, &val_info);
  if (!val_exists.ok()) return val_exists.status();
  if (!*val_exists) {
    return absl::NotFoundError(absl::StrCat("--val_dir ", options.val_dir, " does not exist"));
  }
  if (!S_ISDIR(val_info.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--val_dir ", options.val_dir, " is not a directory"));
  }

  struct stat out_info;
  absl::StatusOr<bool> out_exists = StatPath(options.out_dir, /*follow=*/true, &out_info);
  if (!out_exists.ok()) return out_exists.status();
  if (*out_exists && !S_ISDIR(out_info.st_mode)) {
    plan.errors.push_back(absl::StrCat("--out_dir ", options.out_dir, " is not a directory"));
    return plan;
  }
  if (options.mode == PlaceMode::kHardlink) {
    absl::StatusOr<dev_t> out_device = DeviceOf(options.out_dir);
    if (!out_device.ok()) return out_device.status();
    if (*out_device != val_info.st_dev) {
      plan.errors.push_back(absl::StrCat(
          "--mode=hardlink: ", options.val_dir, " and ", options.out_dir,
          " are on different file systems, where hard links are impossible; use --mode=copy or "
          "--mode=symlink"));
      return plan;
    }
  }

  // Each class folder must be absent (created later) or a directory.
  absl::flat_hash_map<std::string, bool> class_usable;
  for (const LabeledImage& image : images) {
    if (class_usable.contains(image.wnid)) continue;
    const std::string folder = JoinPath(options.out_dir, image.wnid);
    struct stat info;
    absl::StatusOr<bool> exists = StatPath(folder, /*follow=*/true, &info);
    if (!exists.ok()) return exists.status();
    const bool usable = !*exists || S_ISDIR(info.st_mode);
    if (!usable) {
      plan.errors.push_back(absl::StrCat(folder, " (the folder of class ", image.wnid,
                                         ") exists and is not a directory"));
    }
    class_usable[image.wnid] = usable;
  }

  absl::flat_hash_set<std::string> listed;
  plan.images.reserve(images.size());
  for (const LabeledImage& image : images) {
    listed.insert(image.image);
    PlannedImage& p = plan.images.emplace_back();
    p.image = image.image;
    p.wnid = image.wnid;
    p.source = JoinPath(options.val_dir, image.image);
    p.destination = JoinPath(JoinPath(options.out_dir, image.wnid), image.image);
    if (!class_usable[image.wnid]) continue;

    struct stat src, dst;
    absl::StatusOr<bool> src_exists = StatPath(p.source, /*follow=*/false, &src);
    if (!src_exists.ok()) return src_exists.status();
    absl::StatusOr<bool> dst_exists = StatPath(p.destination, /*follow=*/false, &dst);
    if (!dst_exists.ok()) return dst_exists.status();
    if (*src_exists) {
      struct stat followed;
      absl::StatusOr<bool> target = StatPath(p.source, /*follow=*/true, &followed);
      if (!target.ok()) return target.status();
      if (*target && S_ISDIR(followed.st_mode)) {
        plan.errors.push_back(absl::StrCat(p.source, " (listed on line ", image.line,
                                           ") is a directory, not an image file"));
        continue;
      }
    }

    if (!*dst_exists) {
      p.action = *src_exists ? Action::kPlace : Action::kMissing;
      continue;
    }
    p.action = Action::kAlreadyPlaced;
    if (options.mode != PlaceMode::kMove || !*src_exists) continue;
    // Move mode with both present: fine if they are one file or equal bytes, else a conflict
    // that only a person can resolve.
    if (!S_ISREG(dst.st_mode)) {
      p.action = Action::kConflict;
      p.conflict = "destination is not a regular file";
    } else if (src.st_dev == dst.st_dev && src.st_ino == dst.st_ino) {
      // Two names of one file (hard links): already placed; the extra name is harmless.
    } else {
      absl::StatusOr<bool> same = SameContents(p.source, p.destination);
      if (!same.ok()) return same.status();
      if (*same) {
        p.remove_source = true;
      } else {
        p.action = Action::kConflict;
        struct stat followed;
        if (::stat(p.source.c_str(), &followed) == 0 && followed.st_size != dst.st_size) {
          p.conflict = SizeConflict(followed, dst);
        } else {
          p.conflict = "same size, different bytes";
        }
      }
    }
  }

  // Unlisted files: what a loader of val_dir would still see as loose files.
  std::vector<std::pair<dev_t, ino_t>> ignored;
  for (const std::string& path : options.ignored_files) {
    struct stat info;
    if (!path.empty() && ::stat(path.c_str(), &info) == 0) ignored.emplace_back(info.st_dev, info.st_ino);
  }
  std::error_code ec;
  for (std::filesystem::directory_iterator it(options.val_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name.front() == '.' || listed.contains(name)) continue;
    struct stat info;
    if (::stat(it->path().c_str(), &info) != 0 || !S_ISREG(info.st_mode)) continue;
    if (std::find(ignored.begin(), ignored.end(), std::make_pair(info.st_dev, info.st_ino)) !=
        ignored.end()) {
      continue;
    }
    plan.unlisted.push_back(name);
  }
  if (ec) {
    return absl::ErrnoToStatus(ec.value(), absl::StrCat("cannot list ", options.val_dir));
  }
  std::sort(plan.unlisted.begin(), plan.unlisted.end());
  return plan;
}

absl::Status ExecutePlan(const Plan& plan, const std::string& out_dir, PlaceMode mode,
                         ExecuteCounts* counts) {
  int64_t total = 0;
  for (const PlannedImage& p : plan.images) {
    if (p.action == Action::kPlace || p.remove_source) ++total;
  }
  if (total == 0) return absl::OkStatus();

  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return absl::ErrnoToStatus(ec.value(), absl::StrCat("cannot create --out_dir ", out_dir));

  // Directories whose entries changed, fsynced once at the end rather than after every file.
  std::vector<std::string> changed_dirs = {out_dir};
  absl::flat_hash_set<std::string> ready_folders;
  bool sources_changed = false;
  std::string source_dir;
  absl::Status status;
  ProgressBar progress("valprep", total);
  for (const PlannedImage& p : plan.images) {
    if (p.action == Action::kPlace) {
      const std::string folder = JoinPath(out_dir, p.wnid);
      if (!ready_folders.contains(folder)) {
        if (::mkdir(folder.c_str(), 0777) != 0 && errno != EEXIST) {
          status = absl::ErrnoToStatus(errno, absl::StrCat("cannot create the class folder ", folder));
          break;
        }
        ready_folders.insert(folder);
        changed_dirs.push_back(folder);
      }
      status = PlaceFile(p.source, p.destination, mode);
      if (!status.ok()) {
        if (absl::IsAlreadyExists(status)) {
          status = absl::InternalError(absl::StrCat(
              p.destination, " appeared while valprep ran (is another valprep running?); rerun"));
        }
        break;
      }
      ++counts->placed;
      sources_changed |= mode == PlaceMode::kMove;
    } else if (p.remove_source) {
      if (::unlink(p.source.c_str()) != 0 && errno != ENOENT) {
        status = absl::ErrnoToStatus(errno, absl::StrCat("cannot remove ", p.source, ", a leftover copy of ",
                                                p.destination));
        break;
      }
      ++counts->sources_removed;
      sources_changed = true;
    } else {
      continue;
    }
    if (source_dir.empty()) source_dir = p.source.substr(0, p.source.size() - p.image.size());
    progress.Add(1);
  }
  progress.Finish();
  if (sources_changed) changed_dirs.push_back(source_dir);
  // Also after a failure: what was done should survive a crash.
  for (const std::string& dir : changed_dirs) {
    absl::Status synced = SyncDirectory(dir);
    if (status.ok()) status = synced;
  }
  return status;
}

}  // namespace valprep
}  // namespace forge
