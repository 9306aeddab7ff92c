#include "serial.hpp"

#include <string>

namespace pg_product_analytics::core {

void
throw_corrupt(const char *what)
{
	throw Error(ErrorKind::CorruptState, std::string("invalid aggregate state: ") + what);
}

void
ByteWriter::overflow()
{
	throw Error(ErrorKind::Internal, "serialized state larger than its computed size");
}

void
ByteWriter::finish() const
{
	if (pos_ != size_)
		throw Error(ErrorKind::Internal, "serialized state smaller than its computed size");
}

void
ByteReader::header(StateTag tag)
{
	if (size_ < kHeaderSize)
		throw_corrupt("truncated header");
	if (u8() != kFormatMagic0 || u8() != kFormatMagic1)
		throw_corrupt("bad magic number");
	if (u8() != kFormatVersion)
		throw_corrupt("unsupported format version");
	if (u8() != static_cast<std::uint8_t>(tag))
		throw_corrupt("state of another aggregate");
}

void
ByteReader::finish() const
{
	if (pos_ != size_)
		throw_corrupt("trailing bytes");
}

} // namespace pg_product_analytics::core
