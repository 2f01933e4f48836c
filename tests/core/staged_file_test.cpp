// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
// Staged output files: whole or nothing, never written through a planted link, several outputs
// committed all or none.

#include <spectral/io/staged_file.hpp>

#include <common/temp_folder.hpp>

#include <catch2/catch_test_macros.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using spectral::io::staged_file;
using spectral::io::staged_file_set;

/// A fresh folder, and the names in it.
struct scratch_folder : spectral_test::temp_folder {
  [[nodiscard]] std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(path)) {
      out.push_back(entry.path().filename().string());
    }
    return out;
  }
};

std::string contents(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST_CASE("a staged file appears whole at commit and leaves nothing when discarded", "[io]") {
  scratch_folder folder;
  const fs::path out = folder.path / "out.txt";
  {
    staged_file file(out);
    file.write("hello ");
    file.write("world");
    CHECK_FALSE(fs::exists(out));  // nothing under the destination's name before commit
    CHECK(file.temporary().parent_path() == folder.path);
    file.commit();
  }
  CHECK(contents(out) == "hello world");
  {
    staged_file abandoned(out);
    abandoned.write("partial");
  }  // destroyed uncommitted
  CHECK(contents(out) == "hello world");
  CHECK(folder.names() == std::vector<std::string>{"out.txt"});
}

TEST_CASE("a link planted at the destination is replaced, its target untouched", "[io]") {
  scratch_folder folder;
  const fs::path victim = folder.path / "victim";
  std::ofstream(victim) << "precious";
  const fs::path out = folder.path / "out.npy";
  fs::create_symlink(victim, out);
  spectral::io::write_file_atomically(out, "new");
  CHECK(contents(victim) == "precious");
  CHECK_FALSE(fs::is_symlink(out));
  CHECK(contents(out) == "new");
}

TEST_CASE("a staged file's temporary name cannot be predicted", "[io]") {
  scratch_folder folder;
  const fs::path out = folder.path / "out.txt";
  staged_file a(out);
  staged_file b(out);
  CHECK(a.temporary() != b.temporary());
  CHECK(a.temporary().filename().string().rfind(".out.txt.", 0) == 0);
}

TEST_CASE("a staged file in a missing or unwritable folder names the destination", "[io]") {
  scratch_folder folder;
  const fs::path missing = folder.path / "no" / "such" / "file";
  try {
    staged_file file(missing);
    FAIL("no exception");
  } catch (const spectral::invalid_input& e) {
    CHECK(std::string(e.what()).find(missing.string()) == 0);
  }
  CHECK(folder.names().empty());
}

TEST_CASE("outputs staged together are committed all or none", "[io]") {
  scratch_folder folder;
  const fs::path y = folder.path / "y.npy";
  const fs::path g = folder.path / "g.npy";
  {
    staged_file_set outputs;
    outputs.add(y).write("Y");
    outputs.add(g).write("G");
    outputs.commit();
  }
  CHECK(contents(y) == "Y");
  CHECK(contents(g) == "G");

  // The second output names the first one's file through another spelling: refused.
  {
    staged_file_set same;
    same.add(y).write("Y2");
    CHECK_THROWS_AS(same.add(folder.path / "." / "y.npy"), spectral::invalid_input);
  }
  CHECK(contents(y) == "Y");

  // The second cannot be moved into place (a folder sits at its name): neither output appears.
  const fs::path y2 = folder.path / "y2.npy";
  const fs::path blocked = folder.path / "blocked";
  fs::create_directories(blocked / "inside");
  {
    staged_file_set outputs;
    outputs.add(y2).write("Y");
    outputs.add(blocked).write("G");
    CHECK_THROWS_AS(outputs.commit(), spectral::invalid_input);
  }
  CHECK_FALSE(fs::exists(y2));
  CHECK(fs::is_directory(blocked / "inside"));
  for (const auto& name : folder.names()) {
    CHECK(name.find(".partial") == std::string::npos);
  }
}

TEST_CASE("same_file_path sees through spellings and links", "[io]") {
  scratch_folder folder;
  const fs::path a = folder.path / "a";
  CHECK(spectral::io::same_file_path(a, folder.path / "x" / ".." / "a"));
  fs::create_directories(folder.path / "real");
  fs::create_directory_symlink(folder.path / "real", folder.path / "alias");
  CHECK(spectral::io::same_file_path(folder.path / "real" / "f", folder.path / "alias" / "f"));
  CHECK_FALSE(spectral::io::same_file_path(folder.path / "real" / "f", folder.path / "real" / "g"));
}
