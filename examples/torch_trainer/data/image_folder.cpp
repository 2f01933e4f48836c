// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

#include "data/image_folder.hpp"

#include <spectral/core/error.hpp>

#include <algorithm>
#include <fstream>
#include <ios>
#include <system_error>
#include <utility>

namespace spectral::trainer {
namespace detail {

bool has_jpeg_extension(const std::filesystem::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return ext == ".jpg" || ext == ".jpeg";
}

std::optional<std::vector<unsigned char>> try_read_file(const std::filesystem::path& path,
                                                        std::uintmax_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0 || static_cast<std::uintmax_t>(size) > max_bytes) {
    return std::nullopt;
  }
  in.seekg(0, std::ios::beg);
  std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(bytes.data()), size);
  if (in.gcount() != size) {
    return std::nullopt;
  }
  return bytes;
}

/// The entries of `folder` that `keep` accepts. An entry that cannot be examined (a link loop, a
/// dangling link, an entry removed meanwhile) is passed over, and an error while listing ends the
/// listing: std::filesystem's throwing calls would abort the whole scan for one bad entry.
template <class Keep>
[[nodiscard]] std::vector<std::filesystem::path> list_folder(const std::filesystem::path& folder,
                                                             Keep keep,
                                                             std::error_code& ec) {
  namespace fs = std::filesystem;
  std::vector<fs::path> out;
  fs::directory_iterator it(folder, ec);
  for (const fs::directory_iterator end; !ec && it != end; it.increment(ec)) {
    std::error_code entry_ec;
    if (keep(*it, entry_ec) && !entry_ec) {
      out.push_back(it->path());
    }
  }
  return out;
}

}  // namespace detail

image_folder scan_image_folder(const std::filesystem::path& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  SPECTRAL_EXPECTS(fs::exists(root, ec), "image folder ", root.string(), " does not exist");
  SPECTRAL_EXPECTS(fs::is_directory(root, ec), "image folder ", root.string(),
                   " is not a directory");
  image_folder out;
  out.root = root;
  const std::vector<fs::path> class_folders = detail::list_folder(
      root,
      [](const fs::directory_entry& entry, std::error_code& entry_ec) {
        return entry.is_directory(entry_ec);
      },
      ec);
  SPECTRAL_EXPECTS(!ec, "image folder ", root.string(), ": cannot list it (", ec.message(), ")");
  for (const fs::path& folder : class_folders) {
    out.classes.push_back(folder.filename().string());
  }
  SPECTRAL_EXPECTS(!out.classes.empty(), "image folder ", root.string(),
                   " has no class folders (expected root/<class>/<image>.JPEG)");
  std::sort(out.classes.begin(), out.classes.end());
  for (std::size_t c = 0; c < out.classes.size(); ++c) {
    // An unlistable class folder keeps its id (the others' ids do not shift) and gives no files.
    std::error_code list_ec;
    std::vector<fs::path> files = detail::list_folder(
        root / out.classes[c],
        [](const fs::directory_entry& entry, std::error_code& entry_ec) {
          return detail::has_jpeg_extension(entry.path()) && entry.is_regular_file(entry_ec);
        },
        list_ec);
    std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
      return a.filename().string() < b.filename().string();
    });
    for (fs::path& file : files) {
      out.files.push_back(std::move(file));
      out.labels.push_back(static_cast<std::int64_t>(c));
    }
  }
  SPECTRAL_EXPECTS(!out.files.empty(), "image folder ", root.string(), ": none of its ",
                   out.classes.size(), " class folders holds a .jpg/.jpeg file");
  return out;
}

}  // namespace spectral::trainer
