package texts

// builtin is the template set Regulars ships, per locale. Every locale has
// every template (a test checks).
var builtin = map[string]map[Name]Template{
	"en": {
		Welcome:             {"Welcome to the club, {name}", "You are in. Every purchase now earns points."},
		PointsEarned:        {"You earned {points} points", "{reason}"},
		PointsReceived:      {"You received {points} points", "{reason}"},
		TierChanged:         {"You are now {to}", "You moved from {from} to {to}."},
		BadgeUnlocked:       {"Badge unlocked: {badge} {level}", "You unlocked {badge} {level}. {description}"},
		RedemptionCompleted: {"Enjoy your {reward}", "Show code {code}. {points} points were spent."},
		RedemptionCancelled: {"Redemption cancelled", "{points} points are back in your balance: {reason}"},
		Birthday:            {"Happy birthday, {name}!", "{points} points are waiting for you."},
		WinBack:             {"We miss you", "It has been a while. Come back and see what is new."},
		PointsExpiring:      {"{points} points expire soon", "They expire on {date}. Spend them on a reward."},
		StreakAtRisk:        {"Keep your {days}-day streak", "Check in before midnight to keep it going."},
		CouponExpiring:      {"Your coupon expires soon", "Use code {code} before {date} {time}."},
		EventSeatOffered:    {"A seat is yours: {event}", "A seat freed up and is held for you until {deadline}. Claim it before then."},
		EventReminder:       {"{event} starts {starts}", "See you at {place}. Your check-in code is in the app."},
		EventPublished:      {"New event: {event}", "{starts}, {place}. Members only: RSVP in the app."},
	},
	"ru": {
		Welcome:             {"Добро пожаловать в клуб, {name}", "Вы с нами. Теперь каждая покупка приносит баллы."},
		PointsEarned:        {"Вам начислено баллов: {points}", "Ваш баланс: {balance}."},
		PointsReceived:      {"Вам начислено баллов: {points}", "{reason}"},
		TierChanged:         {"Ваш новый уровень: {to}", "Вы перешли с уровня {from} на уровень {to}."},
		BadgeUnlocked:       {"Новый значок: {badge} {level}", "Вы получили значок {badge} {level}. {description}"},
		RedemptionCompleted: {"Ваша награда: {reward}", "Покажите код {code}. Списано баллов: {points}."},
		RedemptionCancelled: {"Обмен отменён", "Баллы вернулись на ваш счёт ({points}): {reason}"},
		Birthday:            {"С днём рождения, {name}!", "Вас ждут подарочные баллы: {points}."},
		WinBack:             {"Мы скучаем", "Давно не виделись. Загляните к нам — у нас много нового."},
		PointsExpiring:      {"Скоро сгорят баллы: {points}", "Они сгорят {date}. Обменяйте их на награду."},
		StreakAtRisk:        {"Не прервите серию: {days} дн.", "Отметьтесь до полуночи, чтобы сохранить серию."},
		CouponExpiring:      {"Срок действия купона истекает", "Используйте код {code} до {date} {time}."},
		EventSeatOffered:    {"Для вас есть место: {event}", "Освободилось место, оно ждёт вас до {deadline}. Подтвердите его до этого времени."},
		EventReminder:       {"{event}: начало {starts}", "Ждём вас: {place}. Код для входа — в приложении."},
		EventPublished:      {"Новое событие: {event}", "{starts}, {place}. Только для участников: ответьте в приложении."},
	},
}
