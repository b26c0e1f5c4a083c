//! [`FoldedIndex`]: the one look-up structure the actions share for "is this name (or id)
//! among those", where a scan per look-up would make a user in 1,000 groups, or a call
//! naming thousands, quadratic.

use std::borrow::Cow;

/// Names folded to lower case (or ids kept as they are) and hashed into buckets once, so
/// finding one among n others costs O(1) on average instead of a scan (a call may name
/// thousands of groups, a user may be in 1,000). No sort and no `HashMap`: both would cost
/// the component kilobytes.
pub(crate) struct FoldedIndex {
    /// The keys (folded names, or exact ids), in list order.
    keys: Vec<String>,
    /// Positions into `keys`, bucketed by hash; a power-of-two count.
    buckets: Vec<Vec<usize>>,
    /// Whether keys and look-ups are folded to lower case.
    folded: bool,
}

impl FoldedIndex {
    /// Names compared ignoring case.
    pub(crate) fn new<'a>(names: impl Iterator<Item = &'a str>) -> Self {
        Self::build(names.map(crate::text::fold_case).collect(), true)
    }

    /// Ids compared exactly.
    pub(crate) fn exact<'a>(ids: impl Iterator<Item = &'a str>) -> Self {
        Self::build(ids.map(str::to_string).collect(), false)
    }

    fn build(keys: Vec<String>, folded: bool) -> Self {
        let mut buckets = vec![Vec::new(); (keys.len() * 2).next_power_of_two()];
        for (i, key) in keys.iter().enumerate() {
            let slot = slot(key, buckets.len());
            if let Some(b) = buckets.get_mut(slot) {
                b.push(i);
            }
        }
        FoldedIndex {
            keys,
            buckets,
            folded,
        }
    }

    /// The positions of every key equal to `name` (ignoring case when folded), in list order.
    /// An exact look-up allocates nothing: a page of users with all their groups expanded
    /// looks up every (user, group) pair.
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = usize> + 'a {
        let key = if self.folded {
            Cow::Owned(crate::text::fold_case(name))
        } else {
            Cow::Borrowed(name)
        };
        let bucket = self
            .buckets
            .get(slot(&key, self.buckets.len()))
            .map_or(&[][..], Vec::as_slice);
        bucket
            .iter()
            .copied()
            .filter(move |i| self.keys.get(*i).is_some_and(|k| *k == *key))
    }

    /// The first position of a key equal to `name`.
    pub(crate) fn first(&self, name: &str) -> Option<usize> {
        self.all(name).next()
    }
}

/// The bucket of `key` among `buckets` (a power of two): FNV-1a of its bytes.
fn slot(key: &str, buckets: usize) -> usize {
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    (hash as usize) & buckets.saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_keys_match_ignoring_case_and_exact_keys_do_not() {
        let folded = FoldedIndex::new(["Engineering", "sales", "ENGINEERING"].into_iter());
        assert_eq!(folded.all("engineering").collect::<Vec<_>>(), [0, 2]);
        assert_eq!(folded.first("SALES"), Some(1));
        assert_eq!(folded.first("marketing"), None);

        let exact = FoldedIndex::exact(["g-A", "g-b", "g-A"].into_iter());
        assert_eq!(exact.all("g-A").collect::<Vec<_>>(), [0, 2]);
        assert_eq!(exact.first("g-a"), None, "ids are compared exactly");
        assert_eq!(exact.first("g-b"), Some(1));
    }

    #[test]
    fn an_empty_index_finds_nothing() {
        let empty = FoldedIndex::exact(std::iter::empty());
        assert_eq!(empty.first(""), None);
        assert_eq!(empty.first("g1"), None);
    }
}
