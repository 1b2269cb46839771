// The byte helpers (core/types.h): put_* through a Writer appends exactly what
// put_* on the Bytes itself appends, whatever size the Writer was told to
// expect, and the Bytes is trimmed to what was written when the Writer ends.
#include <gtest/gtest.h>

#include "core/types.h"

namespace synod {
namespace {

template <class Out>
void put_every_field(Out& out) {
  put_u8(out, 0xa5);
  put_u32(out, 0x01020304);
  put_u64(out, 0x0102030405060708ULL);
  put_bytes(out, as_bytes("bytes"));
  put_str(out, "str");
  put_var(out, as_bytes("var"));
  put_var(out, ByteView{});
}

TEST(Writer, AppendsWhatPutOnBytesAppendsWhateverSizeItExpected) {
  const Bytes prefix = {0xde, 0xad};
  Bytes plain = prefix;
  put_every_field(plain);
  ASSERT_EQ(plain.size(), prefix.size() + 1 + 4 + 8 + 5 + 3 + (4 + 3) + 4);
  EXPECT_EQ(Bytes(plain.begin() + 3, plain.begin() + 7), (Bytes{0x01, 0x02, 0x03, 0x04}));  // big-endian

  for (const std::size_t expected : {0, 1, 16, 37, 1000}) {
    Bytes through_writer = prefix;
    {
      Writer out(through_writer, expected);
      put_every_field(out);
    }
    EXPECT_EQ(through_writer, plain) << "expected " << expected;
  }
}

}  // namespace
}  // namespace synod
