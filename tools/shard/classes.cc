#include "tools/shard/classes.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "lib/data/synset_mapping.h"
#include "lib/io/file.h"
#include "lib/io/proto_file.h"

namespace forge {
namespace {

// At most this many WNIDs are spelled out in a message.
constexpr size_t kListedWnids = 20;

std::string ListWnids(const std::vector<std::string>& wnids) {
  std::vector<std::string> shown(wnids.begin(),
                                 wnids.begin() + std::min(wnids.size(), kListedWnids));
  std::string text = absl::StrJoin(shown, " ");
  if (wnids.size() > shown.size()) absl::StrAppend(&text, " ... (", wnids.size(), " in all)");
  return text;
}

absl::StatusOr<std::vector<ClassInfo>> ClassesFromManifest(
    const std::vector<std::string>& folder_wnids, const std::string& path) {
  DatasetManifest manifest;
  if (absl::Status status = ReadProtoFile(path, &manifest); !status.ok()) return status;
  if (manifest.classes_size() == 0) {
    return absl::InvalidArgumentError(absl::StrCat("--classes_from=", path, " lists no classes"));
  }
  std::vector<ClassInfo> classes(manifest.classes().begin(), manifest.classes().end());
  absl::flat_hash_set<std::string> known;
  for (size_t i = 0; i < classes.size(); ++i) {
    if (classes[i].index() != static_cast<int>(i)) {
      return absl::InvalidArgumentError(absl::StrCat("--classes_from=", path, ": class ", i, " (",
                                                     classes[i].wnid(), ") has index ",
                                                     classes[i].index(), "; expected ", i));
    }
    if (!known.insert(classes[i].wnid()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("--classes_from=", path, " lists WNID ", classes[i].wnid(), " twice"));
    }
  }
  std::vector<std::string> unknown;
  for (const std::string& wnid : folder_wnids) {
    if (!known.contains(wnid)) unknown.push_back(wnid);
  }
  if (!unknown.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(unknown.size(), " class folder(s) unknown to --classes_from=", path, ": ",
                     ListWnids(unknown)));
  }
  return classes;
}

}  // namespace

absl::StatusOr<std::vector<ClassInfo>> BuildClasses(const std::vector<std::string>& folder_wnids,
                                                    const std::string& classes_from,
                                                    const std::string& synset_mapping) {
  std::vector<ClassInfo> classes;
  if (!classes_from.empty()) {
    absl::StatusOr<std::vector<ClassInfo>> from = ClassesFromManifest(folder_wnids, classes_from);
    if (!from.ok()) return from.status();
    classes = std::move(*from);
  } else {
    for (size_t i = 0; i < folder_wnids.size(); ++i) {
      ClassInfo& info = classes.emplace_back();
      info.set_index(static_cast<int>(i));
      info.set_wnid(folder_wnids[i]);
    }
  }
  if (synset_mapping.empty()) return classes;
  absl::StatusOr<std::map<std::string, std::string>> names = ReadSynsetMapping(synset_mapping);
  if (!names.ok()) return names.status();
  std::vector<std::string> missing;
  for (ClassInfo& info : classes) {
    auto it = names->find(info.wnid());
    if (it == names->end()) {
      missing.push_back(info.wnid());
    } else {
      info.set_name(it->second);
    }
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(missing.size(), " class(es) missing from --synset_mapping=", synset_mapping,
                     ": ", ListWnids(missing)));
  }
  return classes;
}

}  // namespace forge
