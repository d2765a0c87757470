//! The words bulk-loaded messages and benchmark webhooks are made of: a support-chat
//! vocabulary, most frequent first, and customers' names.

use std::sync::LazyLock;

/// The word the search benchmark looks for: the most frequent one.
pub const SEARCH_WORD: &str = "order";

/// Words of customer-support chats, most frequent first (the bulk generator picks word `k`
/// with a probability falling off like `ln(n / k)`).
pub static WORDS: LazyLock<Vec<&str>> = LazyLock::new(|| WORDS_TEXT.split_whitespace().collect());

/// Customers' first and family names.
pub static FIRST_NAMES: LazyLock<Vec<&str>> =
    LazyLock::new(|| FIRST_NAMES_TEXT.split_whitespace().collect());
pub static LAST_NAMES: LazyLock<Vec<&str>> =
    LazyLock::new(|| LAST_NAMES_TEXT.split_whitespace().collect());

const WORDS_TEXT: &str = "\
    order the my i you to is please and a it thanks for hi can delivery when we your of not \
    have this hello in yes package on be will do me what ok no refund with status tracking \
    number today time help address payment are at that there how still received shipping where \
    could would just sent need card account tomorrow week again check update item arrived wrong \
    size color return exchange store product price invoice receipt code discount coupon problem \
    issue late waiting courier driver pickup box damaged broken missing parcel shipment confirm \
    confirmed cancel cancelled change phone email name photo picture link website app login \
    password reset support agent team manager call message reply answer sorry great good \
    perfect fine sure maybe soon later morning afternoon evening night monday tuesday wednesday \
    thursday friday saturday sunday weekend holiday open closed hours branch city street \
    apartment floor door building zip postcode country customs tax fee charge charged twice \
    bank transfer paid pay cash credit debit wallet balance points reward member membership \
    subscription plan renew expired warranty repair service technician appointment schedule \
    booking reservation table room ticket seat flight hotel checkin checkout menu food pizza \
    coffee drink cold hot fresh quality quantity small medium large extra free new old same \
    other another first last next before after since until because but or so if then also only \
    very too more less all any some every each many much few one two three four five days weeks \
    minutes month year yesterday now already never always usually often finally really actually \
    exactly almost anyone someone nobody everything nothing something why who which here know \
    think want like love hate see look find found lost keep give take make made bring buy \
    bought sell ship shipped deliver delivered arrive wait waited try tried work working works \
    broke fix fixed replace replacement send resend track tracked tell told ask asked said say \
    understand sorted";

const FIRST_NAMES_TEXT: &str = "\
    Ana Ben Carla David Elena Farid Grace Hiro Ines Jonas Kemi Lucas Maria Noah Olga Pedro \
    Quinn Rosa Samir Tara Umar Vera Wen Ximena Yusuf Zoe Aisha Bruno Chloe Diego Emma Felipe \
    Gabriela Hugo Ivan Julia Kofi Lina Mateo Nadia Omar Priya Rafael Sofia Tomas Valentina \
    William Yara";

const LAST_NAMES_TEXT: &str = "\
    Silva Santos Oliveira Souza Garcia Martinez Lopez Gonzalez Smith Johnson Brown Jones Miller \
    Davis Wilson Taylor Anderson Thomas Moore Martin Jackson White Harris Clark Lewis Walker \
    Hall Young Khan Ali Ahmed Hussain Patel Singh Kumar Sharma Nguyen Tran Kim Lee Park Chen \
    Wang Li Zhang Mueller Schmidt Rossi";

/// A customer message of a few words for webhook `n`, varied and repeatable.
pub fn sentence(n: u64) -> String {
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut next = move || {
        x ^= x >> 29;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x ^= x >> 32;
        x
    };
    let len = 3 + next() % 10;
    let words: Vec<&str> = (0..len)
        .map(|_| {
            let k = WORDS.len() as u64;
            let (a, b) = (next() % k, next() % k);
            WORDS[(a * b / k) as usize]
        })
        .collect();
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vocabulary_is_a_few_hundred_plain_words() {
        assert!((300..600).contains(&WORDS.len()), "{}", WORDS.len());
        assert_eq!(WORDS[0], SEARCH_WORD);
        let mut unique = WORDS.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), WORDS.len(), "no word twice");
        let plain = |w: &&&str| w.chars().all(|c| c.is_ascii_alphanumeric());
        let mut all = WORDS
            .iter()
            .chain(FIRST_NAMES.iter())
            .chain(LAST_NAMES.iter());
        assert!(all.all(|w| plain(&w)));
        assert_eq!((FIRST_NAMES.len(), LAST_NAMES.len()), (48, 48));
        assert_eq!(sentence(7), sentence(7));
        assert_ne!(sentence(7), sentence(8));
    }
}
