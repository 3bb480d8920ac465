//! Decimal formatting of unsigned integers without allocating (status codes, SSE `retry`,
//! request ids).

/// Room for the decimal digits of any `u64`.
pub(crate) const U64_DIGITS: usize = 20;

/// Writes `v` in decimal at the end of `buf` and returns the digits.
pub(crate) fn format_u64(mut v: u64, buf: &mut [u8; U64_DIGITS]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(slot) = buf.get_mut(i) {
            // `v % 10` is below 10, so the cast is exact.
            *slot = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    buf.get(i..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_every_width() {
        let mut b = [0u8; U64_DIGITS];
        assert_eq!(format_u64(0, &mut b), b"0");
        assert_eq!(format_u64(7, &mut b), b"7");
        assert_eq!(format_u64(1500, &mut b), b"1500");
        assert_eq!(format_u64(u64::MAX, &mut b), b"18446744073709551615");
        for v in [9u64, 10, 99, 100, 65_535, 1 << 40] {
            assert_eq!(format_u64(v, &mut b), v.to_string().as_bytes());
        }
    }
}
